import { describe, expect, it } from 'vitest';
import { POST_INSTALL_PROPERTY, postInstallScript } from './post-install-script.js';

describe('postInstallScript', () => {
  it('runs each step, stops at the first failure naming it, reports through guest additions and powers off', () => {
    const script = postInstallScript([
      { name: 'a', run: 'echo one' },
      { name: 'b', run: 'exit 3\n' },
    ]);
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toMatch(
      /\n\(cd \/ && \/bin\/sh "\$vmkit_dir\/0"\) <\/dev\/null \|\| vmkit_end failed:a\n/,
    );
    expect(script).toMatch(/\|\| vmkit_end failed:b\n/);
    expect(script.indexOf('failed:a')).toBeLessThan(script.indexOf('failed:b'));
    expect(script.trimEnd().endsWith('vmkit_end ok')).toBe(true);
    expect(script).toContain(`guestproperty set ${POST_INSTALL_PROPERTY} "$1"`);
    expect(script).toContain('poweroff || shutdown -h now');
  });

  it('keeps a step body verbatim inside a quoted here-document whose delimiter it does not contain', () => {
    const run = 'echo \'$HOME\' "`x`"\nVMKIT_STEP_EOF\n';
    const script = postInstallScript([{ name: 'q', run }]);
    const m = /<<'(VMKIT_STEP_EOF_1)'\n([\s\S]*?)\n\1\n/.exec(script);
    expect(m?.[2]).toBe(run.trimEnd());
  });

  it('refuses step names and scripts it cannot carry, naming the field', () => {
    expect(() => postInstallScript([{ name: 'Bad Name', run: 'x' }])).toThrow(/^postInstall\[0\]\.name:/);
    expect(() =>
      postInstallScript([
        { name: 'ok', run: 'a' },
        { name: 'nul', run: 'a\0b' },
      ]),
    ).toThrow(/^postInstall\[1\]\.run:/);
  });
});
