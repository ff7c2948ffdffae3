import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { runFile, runPlace, wrapperText } from './agent-wrapper.js';

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
  spawnSync('mkdir', [dir]);
});

describe.each(SHELLS)('the agent wrapper under %s', (_name, shell) => {
  const run = (text: string) => {
    const [program, ...args] = shell;
    const r = spawnSync(program as string, [...args, '-c', text], { encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('runs the command in a plain subshell, hands back its output heads and exit code, leaves no file', () => {
    const place = runPlace(dir, 'a1b2c3d4e5f60718');
    const command = [
      'echo "args $#"',
      `cd ${dir}`,
      'echo first >f && echo second >f && cat f && rm f',
      'echo "marked $VMKIT_RUN"',
      'printf %0200d 0 >&2',
      'exit 3',
    ].join('\n');
    const r = run(wrapperText(place, command, { dirMade: false, stdin: false, captureBytes: 100 }));
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('args 0\nsecond\nmarked vmkit-run-a1b2c3d4e5f60718\n');
    expect(r.stderr).toBe('0'.repeat(100));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps the files for the host to read when it does not capture, the exit code written last', () => {
    const place = runPlace(dir, 'a1b2c3d4e5f60719');
    mkdirSync(place.dir, { mode: 0o700 });
    writeFileSync(runFile(place, 'stdin'), 'input\n');
    const r = run(wrapperText(place, 'cat; echo oops >&2; exit 4', { dirMade: true, stdin: true }));
    expect(r).toEqual({ code: 4, stdout: '', stderr: '' });
    expect(readFileSync(runFile(place, 'stdout'), 'utf8')).toBe('input\n');
    expect(readFileSync(runFile(place, 'stderr'), 'utf8')).toBe('oops\n');
    expect(readFileSync(runFile(place, 'exit'), 'utf8')).toBe('4\n');
  });

  it('opens nothing planted at its directory name (a link, a FIFO): the command does not run', () => {
    const victim = join(root, `victim-${n}`);
    mkdirSync(victim);
    const side = join(dir, 'ran');
    const linked = runPlace(dir, 'a1b2c3d4e5f6071a');
    symlinkSync(victim, linked.dir);
    const r = run(wrapperText(linked, `touch ${side}`, { dirMade: false, stdin: false, captureBytes: 8 }));
    expect(r.code).toBe(125);
    expect(readdirSync(victim)).toEqual([]);
    const fifo = runPlace(dir, 'a1b2c3d4e5f6071b');
    spawnSync('mkfifo', [fifo.dir]);
    const r2 = run(wrapperText(fifo, `touch ${side}`, { dirMade: false, stdin: false }));
    expect(r2.code).toBe(125);
    expect(readdirSync(dir)).not.toContain('ran');
  });
});

describe('runPlace', () => {
  it('takes only a hex run id', () => {
    expect(runPlace('/tmp/', 'abcdef0123456789')).toEqual({
      dir: '/tmp/vmkit-exec-abcdef0123456789',
      marker: 'vmkit-run-abcdef0123456789',
    });
    expect(() => runPlace('/tmp', '../x')).toThrow(/hex/);
  });
});
