import { spawnSync } from 'node:child_process';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { makeRunDirText, removeRunDirText, runFile, runPlace, wrapperText } from './agent-wrapper.js';

// The wrapper run by the real shells of the guests vmkit meets: Debian's dash and busybox ash.
const SHELLS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['dash', ['/bin/sh']],
  ['busybox ash', ['/usr/bin/busybox', 'sh']],
];
const root = mkdtempSync(join(tmpdir(), 'vmkit-wrapper-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dir: string;
let n = 0;
beforeEach(() => {
  dir = join(root, `case-${n++}`);
  spawnSync('sh', ['-c', makeRunDirText(dir)]);
});

/** Waits (bounded) until `dir` holds no file: the wrapper removes its files in the background. */
async function emptied(dir: string): Promise<string[]> {
  for (let i = 0; i < 100 && readdirSync(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return readdirSync(dir);
}

const LOST = 'vmkit-setup-0123456789abcdef:rundir';

describe.each(SHELLS)('the agent wrapper under %s', (_name, shell) => {
  const run = (text: string) => {
    const [program, ...args] = shell;
    const r = spawnSync(program as string, [...args, '-c', text], { encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('runs the command in a plain subshell, hands back its output heads and exit code, leaves no file', async () => {
    const place = runPlace(dir, 'a1b2c3d4e5f60718');
    const command = [
      'echo "args $#"',
      `cd ${root}`,
      'echo first >f && echo second >f && cat f && rm f',
      'echo "marked $VMKIT_RUN"',
      'printf %0200d 0 >&2',
      'exit 3',
    ].join('\n');
    const options = { stdin: false, lostLine: LOST, captureBytes: 100 };
    const r = run(wrapperText(place, command, options));
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('args 0\nsecond\nmarked vmkit-run-a1b2c3d4e5f60718\n');
    expect(r.stderr).toBe('0'.repeat(100));
    expect(await emptied(dir)).toEqual([]);
  });

  it('keeps the files for the host to read when it does not capture, the exit code written last', () => {
    const place = runPlace(dir, 'a1b2c3d4e5f60719');
    writeFileSync(runFile(place, 'stdin'), 'input\n');
    const r = run(wrapperText(place, 'cat; echo oops >&2; exit 4', { stdin: true, lostLine: LOST }));
    expect(r).toEqual({ code: 4, stdout: '', stderr: '' });
    expect(readFileSync(runFile(place, 'stdout'), 'utf8')).toBe('input\n');
    expect(readFileSync(runFile(place, 'stderr'), 'utf8')).toBe('oops\n');
    expect(readFileSync(runFile(place, 'exit'), 'utf8')).toBe('4\n');
  });

  it('runs nothing when the run directory is gone, a link, or not its own, and says so', () => {
    const side = join(root, `ran-${n}`);
    const victim = join(root, `victim-${n}`);
    mkdirSync(victim);
    const linked = join(root, `linked-${n}`);
    symlinkSync(victim, linked);
    const foreign = join(root, `foreign-${n}`);
    mkdirSync(foreign, { mode: 0o700 });
    chownSync(foreign, 65534, 65534);
    for (const where of [join(root, `gone-${n}`), linked, foreign]) {
      const place = runPlace(where, 'a1b2c3d4e5f6071a');
      const r = run(wrapperText(place, `touch ${side}`, { stdin: false, lostLine: LOST, captureBytes: 8 }));
      expect({ where, code: r.code, stderr: r.stderr }).toEqual({ where, code: 125, stderr: `${LOST}\n` });
    }
    expect(readdirSync(victim)).toEqual([]);
    expect(readdirSync(foreign)).toEqual([]);
    expect(readdirSync(root)).not.toContain(`ran-${n}`);
  });
});

describe('the run directory', () => {
  it('is made private (mode 700) and never over a name that exists', () => {
    const fresh = join(root, 'fresh-dir');
    expect(spawnSync('sh', ['-c', makeRunDirText(fresh)]).status).toBe(0);
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    expect(spawnSync('sh', ['-c', makeRunDirText(fresh)]).status).not.toBe(0);
    const fifo = join(root, 'fifo-dir');
    spawnSync('mkfifo', [fifo]);
    expect(spawnSync('sh', ['-c', makeRunDirText(fifo)]).status).not.toBe(0);
  });
});

describe('removing a run directory', () => {
  it('removes its own, and leaves a name someone else took (a link, a directory not its own)', () => {
    const own = join(root, 'own-dir');
    spawnSync('sh', ['-c', makeRunDirText(own)]);
    writeFileSync(join(own, 'x.out'), 'x');
    expect(spawnSync('sh', ['-c', removeRunDirText(own)]).status).toBe(0);
    expect(() => statSync(own)).toThrow(/ENOENT/);
    const theirs = join(root, 'their-dir');
    mkdirSync(theirs);
    writeFileSync(join(theirs, 'keep'), 'k');
    chownSync(theirs, 65534, 65534);
    const linked = join(root, 'linked-dir');
    symlinkSync(theirs, linked);
    for (const dir of [theirs, linked]) spawnSync('sh', ['-c', removeRunDirText(dir)]);
    expect(readdirSync(theirs)).toEqual(['keep']);
    expect(readdirSync(root)).toContain('linked-dir');
  });
});

describe('runPlace', () => {
  it('takes only a hex run id; the run files are named by it', () => {
    const place = runPlace('/tmp/vmkit-runs-x/', 'abcdef0123456789');
    expect(place).toEqual({
      dir: '/tmp/vmkit-runs-x',
      id: 'abcdef0123456789',
      marker: 'vmkit-run-abcdef0123456789',
    });
    expect(runFile(place, 'stdout')).toBe('/tmp/vmkit-runs-x/abcdef0123456789.out');
    expect(() => runPlace('/tmp', '../x')).toThrow(/hex/);
  });
});
