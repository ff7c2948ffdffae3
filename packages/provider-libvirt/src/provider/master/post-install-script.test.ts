import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PostInstallStep } from '@vmkit/core';
import { postInstallScript as corePostInstallScript } from '@vmkit/core/spi';
import { afterAll, describe, expect, it } from 'vitest';
import { readPostInstallConsole } from './post-install-console.js';

/** The script as libvirt's post-install boot makes it (see `runPostInstall`). */
const postInstallScript = (steps: readonly PostInstallStep[]) =>
  corePostInstallScript(steps, { hypervisor: 'libvirt' });

const dir = mkdtempSync(join(tmpdir(), 'vmkit-post-script-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a generated script with /bin/sh as the guest would (without powering anything off). */
function runScript(script: string): { status: number | null; out: string } {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, script, { mode: 0o700 });
  const r = spawnSync('/bin/sh', [file], {
    env: { ...process.env, VMKIT_POST_INSTALL_POWEROFF: '0', OUT: dir },
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('postInstallScript', () => {
  it('is a #!/bin/sh script that runs the steps in order with markers and ends with rc 0', () => {
    const steps = [
      { name: 'write', run: 'echo one > "$OUT/greeting"' },
      { name: 'append', run: 'echo two >> "$OUT/greeting"\necho appended' },
    ];
    const script = postInstallScript(steps);
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    const { status, out } = runScript(script);
    expect(status).toBe(0);
    expect(readFileSync(join(dir, 'greeting'), 'utf8')).toBe('one\ntwo\n');
    expect(out).toBe(
      'VMKIT-STEP-BEGIN write\nVMKIT-STEP-END write rc=0\nVMKIT-STEP-BEGIN append\nappended\n' +
        'VMKIT-STEP-END append rc=0\nVMKIT-POST-INSTALL-END rc=0\n',
    );
    expect(readPostInstallConsole(out, steps)).toEqual({ succeeded: ['write', 'append'] });
  });

  it('stops at the first failing step and exits with its status', () => {
    const steps = [
      { name: 'ok', run: 'true' },
      { name: 'bad', run: 'echo about to fail >&2\nexit 3' },
      { name: 'never', run: 'touch "$OUT/never"' },
    ];
    const { status, out } = runScript(postInstallScript(steps));
    expect(status).toBe(3);
    expect(out).toContain('about to fail\nVMKIT-STEP-END bad rc=3\nVMKIT-POST-INSTALL-END rc=3\n');
    expect(out).not.toContain('VMKIT-STEP-BEGIN never');
    expect(() => readFileSync(join(dir, 'never'))).toThrow();
  });

  it('keeps step scripts byte for byte: quotes, $, backslashes, the here-document delimiter, no final newline, own #! interpreter', () => {
    const tricky = `printf '%s\\n' "$HOME" 'a\\b' '\`x\`' > /dev/null\ncat <<'END'\nVMKIT_STEP_EOF\nEND\necho "dollar: \\$OUT"`;
    const steps = [
      { name: 'tricky', run: tricky },
      { name: 'shebang', run: '#!/bin/sh -e\nfalse\necho unreachable' },
    ];
    const { status, out } = runScript(postInstallScript(steps));
    expect(out).toContain(
      'VMKIT-STEP-BEGIN tricky\nVMKIT_STEP_EOF\ndollar: $OUT\nVMKIT-STEP-END tricky rc=0\n',
    );
    // The second step runs through its own `#!/bin/sh -e`: `false` ends it with rc 1.
    expect(out).toContain('VMKIT-STEP-END shebang rc=1\n');
    expect(out).not.toContain('unreachable');
    expect(status).toBe(1);
    // The script itself is valid shell.
    expect(() => execFileSync('/bin/sh', ['-n', '-c', postInstallScript(steps)])).not.toThrow();
  });

  it('refuses unsafe step names and NUL bytes', () => {
    expect(() => postInstallScript([{ name: 'a;reboot', run: 'true' }])).toThrow(/^postInstall\[0\]\.name:/);
    expect(() =>
      postInstallScript([
        { name: 'ok', run: 'true' },
        { name: 'nul', run: 'a\0b' },
      ]),
    ).toThrow(/^postInstall\[1\]\.run:/);
  });
});
