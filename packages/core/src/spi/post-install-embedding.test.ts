import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { embedPostInstallStep } from './post-install-embedding.js';

/** Runs the here-document with /bin/sh and returns what it wrote (to stdout). */
function written(lines: string[]): string {
  const r = spawnSync('/bin/sh', ['-c', lines.join('\n').replace(/^cat >\S+/, 'cat')], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout;
}

describe('embedPostInstallStep', () => {
  it('writes the script to the target byte for byte through a quoted here-document', () => {
    const run = 'printf \'%s\\n\' "$HOME" \'a\\b\' "`x`"\necho "$((1 + 1))"\n';
    const lines = embedPostInstallStep({ name: 'tricky', run }, 0, '"$vmkit_dir/0"');
    expect(lines[0]).toBe(`cat >"$vmkit_dir/0" <<'VMKIT_STEP_EOF'`);
    expect(lines).toHaveLength(2);
    expect(written(lines)).toBe(run);
  });

  it('adds a final newline only when missing, and carries an empty script', () => {
    expect(written(embedPostInstallStep({ name: 'a', run: 'echo x' }, 0, 'f'))).toBe('echo x\n');
    expect(written(embedPostInstallStep({ name: 'a', run: '' }, 0, 'f'))).toBe('');
  });

  it('picks a delimiter that is no line of the script', () => {
    const run = 'echo start\nVMKIT_STEP_EOF\nVMKIT_STEP_EOF_1\necho end\n';
    const lines = embedPostInstallStep({ name: 'eof', run }, 3, 'f');
    expect(lines[0]).toBe(`cat >f <<'VMKIT_STEP_EOF_2'`);
    expect(written(lines)).toBe(run);
    // A delimiter inside a line (not a whole line) does not end the document.
    expect(embedPostInstallStep({ name: 'eof', run: 'x VMKIT_STEP_EOF\n' }, 0, 'f')[0]).toContain(
      "<<'VMKIT_STEP_EOF'",
    );
  });

  it('refuses unsafe names and NUL bytes, naming the field with its index', () => {
    for (const name of ['', 'Bad', 'a;reboot', 'a b', '-x', 'x'.repeat(64)])
      expect(() => embedPostInstallStep({ name, run: 'true' }, 2, 'f')).toThrow(/^postInstall\[2\]\.name:/);
    expect(() => embedPostInstallStep({ name: 'nul', run: 'a\0b' }, 1, 'f')).toThrow(
      /^postInstall\[1\]\.run:/,
    );
    expect(embedPostInstallStep({ name: 'x'.repeat(63), run: 'true' }, 0, 'f')).toHaveLength(2);
  });
});
