import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { assertPostInstallSucceeded, readPostInstallConsole } from './post-install-console.js';

const steps = [
  { name: 'greet', run: 'echo hi' },
  { name: 'fail', run: 'exit 3' },
];

describe('readPostInstallConsole', () => {
  it('accepts every step ending with rc 0, with \\r\\n line endings and kernel lines around', () => {
    const log =
      '[    1.2] Linux version\r\nvmkit: root stage\r\nVMKIT-STEP-BEGIN greet\r\nhi\r\nVMKIT-STEP-END greet rc=0\r\n' +
      '[    3.0] random: crng init done\r\nVMKIT-STEP-BEGIN fail\r\nVMKIT-STEP-END fail rc=0\r\n';
    const report = readPostInstallConsole(log, steps);
    expect(report).toEqual({ succeeded: ['greet', 'fail'] });
    expect(() => assertPostInstallSucceeded(report)).not.toThrow();
  });

  it('names the failed step with its rc and its last output lines (kernel lines left out)', () => {
    const out = Array.from({ length: 14 }, (_, i) => `line ${i}`).join('\n');
    const log = `VMKIT-STEP-BEGIN greet\nVMKIT-STEP-END greet rc=0\nVMKIT-STEP-BEGIN fail\n${out}\n[   9.1] kernel\nVMKIT-STEP-END fail rc=3\n`;
    const report = readPostInstallConsole(log, steps);
    expect(report.succeeded).toEqual(['greet']);
    expect(report.failed).toEqual({
      name: 'fail',
      rc: 3,
      began: true,
      tail: Array.from({ length: 10 }, (_, i) => `line ${i + 4}`),
    });
    let error: unknown;
    try {
      assertPostInstallSucceeded(report);
    } catch (e) {
      error = e;
    }
    expect(VmkitError.is(error, 'PROVIDER')).toBe(true);
    expect((error as VmkitError).message).toMatch(
      /^post-install step fail failed with rc 3; last console lines:\nline 4\n/,
    );
    expect((error as VmkitError).details).toMatchObject({ step: 'fail', rc: 3 });
  });

  it('reports a step that never began, or began and never ended', () => {
    expect(readPostInstallConsole('vmkit: booted\n', steps).failed).toMatchObject({
      name: 'greet',
      began: false,
      tail: ['vmkit: booted'],
    });
    expect(() => assertPostInstallSucceeded(readPostInstallConsole('', steps))).toThrow(
      /step greet never ran/,
    );
    const hung = readPostInstallConsole('VMKIT-STEP-BEGIN greet\nworking\n', steps);
    expect(hung.failed).toEqual({ name: 'greet', began: true, tail: ['working'] });
    expect(() => assertPostInstallSucceeded(hung)).toThrow(/step greet did not finish/);
  });

  it('does not take an END of another step, or one before its BEGIN, as the step ending', () => {
    const log = 'VMKIT-STEP-END greet rc=0\nVMKIT-STEP-BEGIN greet\nVMKIT-STEP-END fail rc=0\n';
    expect(readPostInstallConsole(log, steps).failed).toMatchObject({ name: 'greet', began: true });
  });
});
