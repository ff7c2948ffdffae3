import { invalidArgument } from '../errors/vmkit-error.js';
import type { NodeScript, RunScriptOptions } from '../model/guest-exec.js';
import { checkInteger } from '../util/integer-option.js';

/** Environment variable names a script may be given. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Guest user names vmkit passes on (POSIX portable names, plus the `$` of machine accounts). */
const USER_NAME = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}\$?$/;
/** Words that need no quotes in a POSIX shell. */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** The exit code of a script that never started because its setup failed (see {@link setupFailure}). */
export const SETUP_FAILURE_EXIT = 125;

/** The largest `maxOutputBytes` accepted (256 MiB per stream). */
export const MAX_OUTPUT_BYTES_LIMIT = 256 * 1024 * 1024;

/** Quotes one word for a POSIX shell (`dash`, busybox `ash`, `bash`): plain words stay as they are. */
export function shellQuote(word: string): string {
  return PLAIN_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one shell command line, each word quoted. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/**
 * Checks a script and the options every transport reads alike, before anything reaches the
 * guest: `INVALID_ARGUMENT` naming `script` (empty, or an argv that is not a non-empty list of
 * strings), `env` (a name off `[A-Za-z_][A-Za-z0-9_]*`, a value that is not a string), `cwd` (not
 * absolute), `user` (not a plain user name), `timeoutMs` or `maxOutputBytes` (not a positive
 * integer); text holding a NUL byte is refused as the guest's shell cannot carry it.
 */
export function checkScriptRequest(script: NodeScript, options: RunScriptOptions): void {
  if (typeof script === 'string') {
    if (script.trim() === '') throw invalidArgument('script', 'must not be empty');
    noNul('script', script);
  } else if (Array.isArray(script)) {
    if (script.length === 0) throw invalidArgument('script', 'an argv must have at least the program');
    for (const word of script as readonly unknown[]) {
      if (typeof word !== 'string') throw invalidArgument('script', 'an argv must hold strings only');
      noNul('script', word);
    }
    if (script[0] === '') throw invalidArgument('script', 'the program must not be empty');
  } else {
    throw invalidArgument('script', 'must be shell text or an argv array');
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (!ENV_NAME.test(name)) throw invalidArgument('env', `names must match ${ENV_NAME.source}`, { name });
    if (typeof value !== 'string') throw invalidArgument('env', 'values must be strings', { name });
    noNul('env', value);
  }
  if (options.cwd !== undefined) checkGuestPath('cwd', options.cwd);
  if (options.user !== undefined && (typeof options.user !== 'string' || !USER_NAME.test(options.user)))
    throw invalidArgument('user', 'must be a user name of the guest (letters, digits, ".", "_", "-")');
  if (options.timeoutMs !== undefined) checkInteger('timeoutMs', options.timeoutMs);
  if (options.maxOutputBytes !== undefined)
    checkInteger('maxOutputBytes', options.maxOutputBytes, { max: MAX_OUTPUT_BYTES_LIMIT });
}

/**
 * Checks a path in the guest: a string starting with `/`, without NUL bytes;
 * `INVALID_ARGUMENT` naming `field` (e.g. `guestPath`) otherwise.
 */
export function checkGuestPath(field: string, path: unknown): string {
  if (typeof path !== 'string' || !path.startsWith('/'))
    throw invalidArgument(field, 'must be an absolute path in the guest', { path: String(path) });
  noNul(field, path);
  return path;
}

/** Whether `user` means root (absent or `root`): no user switch is needed. */
export function isRootUser(user: string | undefined): boolean {
  return user === undefined || user === 'root';
}

/**
 * The shell text that runs `script` with `env` in `cwd`, as the user the shell already is: it sets
 * `umask 022`, exports the variables, changes directory (`cwd`, else `$HOME` when it exists,
 * else `/`) and runs the script (shell text as is, an argv through `exec`). When `cwd` cannot be
 * entered it writes `<marker>:cwd` on stderr and exits {@link SETUP_FAILURE_EXIT}, which
 * {@link setupFailure} recognises; `marker` should be random per call so no script forges it.
 */
export function scriptShellText(
  script: NodeScript,
  options: Pick<RunScriptOptions, 'env' | 'cwd'>,
  marker: string,
): string {
  const lines = ['umask 022'];
  for (const [name, value] of Object.entries(options.env ?? {}))
    lines.push(`${name}=${shellQuote(value)}; export ${name}`);
  if (options.cwd !== undefined)
    lines.push(
      `cd ${shellQuote(options.cwd)} 2>/dev/null || { printf '%s\\n' ${shellQuote(`${marker}:cwd`)} >&2; exit ${SETUP_FAILURE_EXIT}; }`,
    );
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
  else lines.push('cd "${HOME:-/}" 2>/dev/null || cd /');
  lines.push(typeof script === 'string' ? script : `exec ${shellCommand(script)}`);
  return lines.join('\n');
}

/**
 * Shell text that runs shell `text` as `user` from a root shell, on Debian and busybox alike:
 * `su -s /bin/sh USER -c TEXT` (the user's login shell may be `nologin`), after checking that the
 * user exists (`id -u`); when not, it writes `<marker>:user` on stderr and exits
 * {@link SETUP_FAILURE_EXIT}. For root it is `text` itself. Run it with `/bin/sh -c`.
 */
export function asUserCommand(user: string | undefined, text: string, marker: string): string {
  if (isRootUser(user)) return text;
  const name = shellQuote(user as string);
  return (
    `if id -u ${name} >/dev/null 2>&1; then exec su -s /bin/sh ${name} -c ${shellQuote(text)}; ` +
    `else printf '%s\\n' ${shellQuote(`${marker}:user`)} >&2; exit ${SETUP_FAILURE_EXIT}; fi`
  );
}

/**
 * The option a script's setup failed on (`user`, `cwd`), read from its exit code and stderr as
 * {@link scriptShellText} and {@link asUserCommand} report it, or `undefined` when the script ran.
 */
export function setupFailure(marker: string, exitCode: number, stderr: string): 'user' | 'cwd' | undefined {
  if (exitCode !== SETUP_FAILURE_EXIT) return undefined;
  const last = stderr.trimEnd().split('\n').pop() ?? '';
  if (last === `${marker}:user`) return 'user';
  if (last === `${marker}:cwd`) return 'cwd';
  return undefined;
}

/** The `INVALID_ARGUMENT` of a script whose `user` or `cwd` the guest does not have. */
export function setupFailureError(field: 'user' | 'cwd', options: RunScriptOptions): Error {
  return field === 'user'
    ? invalidArgument('user', 'no such user in the guest', { user: options.user })
    : invalidArgument('cwd', 'no such directory in the guest (or not enterable by the user)', {
        cwd: options.cwd,
      });
}

function noNul(field: string, text: string): void {
  if (text.includes('\0')) throw invalidArgument(field, 'must not contain NUL bytes');
}
