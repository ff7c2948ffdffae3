import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postInstallScript } from './post-install-script.js';

const dir = mkdtempSync(join(tmpdir(), 'vmkit-core-post-script-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a generated script with /bin/sh under a strict umask, as a guest would (without powering off). */
function runScript(script: string): { status: number | null; out: string } {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, script, { mode: 0o700 });
  const r = spawnSync('/bin/sh', ['-c', 'umask 077; exec /bin/sh "$1"', 'sh', file], {
    env: { ...process.env, VMKIT_POST_INSTALL_POWEROFF: '0', OUT: dir },
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** Report lines that print what the provider's hook is given. */
const REPORT = ['echo "report rc=$1 step=$2"', 'cat "$VMKIT_REPORT" 2>/dev/null'];

describe('postInstallScript (core)', () => {
  it("names the hypervisor, runs the provider's report lines after the end marker with rc 0, an empty step name and the steps' report file", () => {
    const script = postInstallScript(
      [
        { name: 'one', run: 'echo "note from one" >>"$VMKIT_REPORT"' },
        { name: 'two', run: 'echo "note from two" >>"$VMKIT_REPORT"' },
      ],
      { hypervisor: 'Hyper-V', report: REPORT },
    );
    expect(script.split('\n')[1]).toMatch(/^# vmkit post-install on Hyper-V: 2 step\(s\)/);
    const { status, out } = runScript(script);
    expect(status).toBe(0);
    expect(out).toBe(
      'VMKIT-STEP-BEGIN one\nVMKIT-STEP-END one rc=0\nVMKIT-STEP-BEGIN two\nVMKIT-STEP-END two rc=0\n' +
        'VMKIT-POST-INSTALL-END rc=0\nreport rc=0 step=\nnote from one\nnote from two\n',
    );
  });

  it('hands the report lines the failed step and its status, and exits with that status', () => {
    const script = postInstallScript(
      [
        { name: 'fine', run: 'true' },
        { name: 'broken', run: 'exit 5' },
        { name: 'never', run: 'echo never' },
      ],
      { hypervisor: 'test', report: REPORT },
    );
    const { status, out } = runScript(script);
    expect(status).toBe(5);
    expect(out).toContain(
      'VMKIT-STEP-END broken rc=5\nVMKIT-POST-INSTALL-END rc=5\nreport rc=5 step=broken\n',
    );
    expect(out).not.toContain('never');
  });

  it('runs the steps with umask 022 whatever the caller set', () => {
    const { status } = runScript(
      postInstallScript([{ name: 'write', run: 'echo x > "$OUT/made"' }], { hypervisor: 'test' }),
    );
    expect(status).toBe(0);
    expect(statSync(join(dir, 'made')).mode & 0o777).toBe(0o644);
  });
});
