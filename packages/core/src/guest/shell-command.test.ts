import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import {
  asUserCommand,
  checkGuestPath,
  checkScriptRequest,
  SETUP_FAILURE_EXIT,
  scriptShellText,
  setupFailure,
  shellCommand,
  shellQuote,
} from './shell-command.js';

// Both shells vmkit's guests have: Debian's dash and busybox's ash.
const SHELLS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['dash', ['/bin/sh']],
  ['busybox ash', ['/usr/bin/busybox', 'sh']],
];
const dir = mkdtempSync(join(tmpdir(), 'vmkit-shell-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(shell: readonly string[], text: string) {
  const [program, ...args] = shell as [string, ...string[]];
  const r = spawnSync(program, [...args, '-c', text], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function invalid(fn: () => unknown): VmkitError {
  try {
    fn();
  } catch (error) {
    if (VmkitError.is(error, 'INVALID_ARGUMENT')) return error;
    throw error;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

const NASTY = ["it's", 'a b', '$(touch /tmp/pwned)', '`x`', '"q"', '\\', '\n', '*', '-n', '', 'é ü', "'"];

describe.each(SHELLS)('shell text on %s', (_name, shell) => {
  it('quotes every word so the shell gives it back byte for byte', () => {
    for (const word of NASTY) expect(sh(shell, `printf '%s' ${shellQuote(word)}`).stdout).toBe(word);
    const out = sh(shell, `for a in ${shellCommand(NASTY)}; do printf '[%s]' "$a"; done`).stdout;
    expect(out).toBe(NASTY.map((w) => `[${w}]`).join(''));
  });

  it('runs a script with its env in its cwd, and an argv through exec', () => {
    const text = scriptShellText(
      'printf "%s|%s|" "$GREETING" "$(pwd)"; umask',
      { env: { GREETING: "it's $HOME" }, cwd: dir },
      'm',
    );
    expect(sh(shell, text)).toMatchObject({ code: 0, stdout: `it's $HOME|${dir}|0022\n` });
    const argv = scriptShellText(['printf', '%s,', 'a b', '$x'], {}, 'm');
    expect(sh(shell, argv).stdout).toBe('a b,$x,');
    expect(sh(shell, scriptShellText(['no-such-program-vmkit'], {}, 'm')).code).toBe(127);
    expect(sh(shell, scriptShellText('exit 3', {}, 'm')).code).toBe(3);
  });

  it('reports a cwd it cannot enter through the marker, and nothing runs', () => {
    const r = sh(shell, scriptShellText('echo ran', { cwd: '/no/such/dir' }, 'vmkit-42'));
    expect(r).toMatchObject({ code: SETUP_FAILURE_EXIT, stdout: '' });
    expect(setupFailure('vmkit-42', r.code, r.stderr)).toBe('cwd');
    expect(setupFailure('vmkit-43', r.code, r.stderr)).toBeUndefined();
  });

  it('switches user with su, and reports an unknown user through the marker', () => {
    const text = scriptShellText('id -u', {}, 'k');
    expect(sh(shell, asUserCommand('nobody', text, 'k')).stdout.trim()).toBe(
      execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim(),
    );
    expect(sh(shell, asUserCommand(undefined, text, 'k')).stdout.trim()).toBe('0');
    const r = sh(shell, asUserCommand('vmkit-no-such-user', text, 'k'));
    expect(r.code).toBe(SETUP_FAILURE_EXIT);
    expect(setupFailure('k', r.code, r.stderr)).toBe('user');
  });
});

describe('checkScriptRequest', () => {
  it('accepts scripts, argvs and good options', () => {
    checkScriptRequest('true', {});
    checkScriptRequest(['ls', '-l'], {
      env: { A_1: 'x', _b: '' },
      cwd: '/tmp',
      user: 'debian',
      timeoutMs: 5,
      maxOutputBytes: 1,
    });
  });

  it('refuses bad input, naming the field', () => {
    expect(invalid(() => checkScriptRequest('  ', {})).details.field).toBe('script');
    expect(invalid(() => checkScriptRequest([], {})).details.field).toBe('script');
    expect(invalid(() => checkScriptRequest(['a', 1 as unknown as string], {})).details.field).toBe('script');
    expect(invalid(() => checkScriptRequest('echo \0', {})).details.field).toBe('script');
    expect(invalid(() => checkScriptRequest('true', { env: { '1A': 'x' } })).details.field).toBe('env');
    expect(invalid(() => checkScriptRequest('true', { env: { 'A-B': 'x' } })).details.field).toBe('env');
    expect(invalid(() => checkScriptRequest('true', { cwd: 'tmp' })).details.field).toBe('cwd');
    expect(invalid(() => checkScriptRequest('true', { user: 'a b' })).details.field).toBe('user');
    expect(invalid(() => checkScriptRequest('true', { user: '$(id)' })).details.field).toBe('user');
    expect(invalid(() => checkScriptRequest('true', { timeoutMs: 0 })).details.field).toBe('timeoutMs');
    expect(invalid(() => checkScriptRequest('true', { maxOutputBytes: -1 })).details.field).toBe(
      'maxOutputBytes',
    );
    expect(invalid(() => checkGuestPath('guestPath', 'rel/x')).message).toMatch(
      /^guestPath: must be an absolute path/,
    );
  });
});
