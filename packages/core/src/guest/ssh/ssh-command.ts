import { invalidArgument } from '../../errors/vmkit-error.js';
import type { NodeScript } from '../../model/guest-exec.js';

/** The first line a remote command prints when the user it should run as does not exist. */
export const NO_SUCH_USER = 'vmkit:no-such-user';

/** Quotes one word for a POSIX shell: `'…'`, with each `'` as `'\''`. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** What a command is run with in the guest. */
export interface RemoteCommandOptions {
  /** Who to run as (default root). */
  readonly user?: string | undefined;
  /** The user SSH logged in as. */
  readonly loginUser: string;
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly cwd?: string | undefined;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\$?$/;

/**
 * The command line an SSH exec runs for a script. It first checks that the user exists (printing
 * {@link NO_SUCH_USER} when not), prints the PID of the login shell (the leader of the session
 * every process of the script runs in, which is what a kill ends), then becomes the user (none
 * when it is the login user, `su` when logged in as root, else `sudo -n`), enters `cwd`, sets
 * `env` and runs the script with `/bin/sh -c` (or the argv as it is).
 */
export function remoteCommand(script: NodeScript, options: RemoteCommandOptions): string {
  const user = options.user ?? 'root';
  if (!USER_NAME.test(user))
    throw invalidArgument('user', `must be a user name (got ${JSON.stringify(user)})`);
  const argv = typeof script === 'string' ? ['/bin/sh', '-c', script] : [...script];
  if (argv.length === 0 || argv.some((a) => typeof a !== 'string'))
    throw invalidArgument('script', 'must be shell text or a non-empty array of strings');
  const pairs = Object.entries(options.env ?? {}).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw invalidArgument(`env.${name}`, 'names follow [A-Za-z_][A-Za-z0-9_]*');
    if (typeof value !== 'string') throw invalidArgument(`env.${name}`, 'must be a string');
    return shellQuote(`${name}=${value}`);
  });
  if (options.cwd !== undefined && (typeof options.cwd !== 'string' || !options.cwd.startsWith('/')))
    throw invalidArgument('cwd', 'must be an absolute guest path');
  const run = `${pairs.length > 0 ? `env ${pairs.join(' ')} ` : ''}${argv.map(shellQuote).join(' ')}`;
  const inner = options.cwd === undefined ? `exec ${run}` : `cd ${shellQuote(options.cwd)} && exec ${run}`;
  return `${userCheck(user)}echo "$$"; exec ${asUser(user, options.loginUser, inner)}`;
}

/** Runs `inner` (shell text) as `user` from a shell of `loginUser`. */
export function asUser(user: string, loginUser: string, inner: string): string {
  const shell = `/bin/sh -c ${shellQuote(inner)}`;
  if (user === loginUser) return shell;
  if (loginUser === 'root') return `su -s /bin/sh -c ${shellQuote(inner)} ${shellQuote(user)}`;
  return `sudo -n -u ${shellQuote(user)} -- ${shell}`;
}

function userCheck(user: string): string {
  return `id -u ${shellQuote(user)} >/dev/null 2>&1 || { echo ${NO_SUCH_USER}; exit 0; }; `;
}

/**
 * A command that kills the script started as session `sid` and everything it started: the
 * process tree under the login shell is frozen (SIGSTOP, so nothing forks meanwhile), listed
 * again, then killed with every process of the sessions it spans (`su` starts one of its own).
 * It runs as root when the login user is not, waits until none is left (up to about 5 s) and
 * prints `gone` when none is.
 */
export function killSessionCommand(sid: number, loginUser: string): string {
  const inner = [
    // A killed process stays a zombie until its parent reaps it: only the not-yet-dead count.
    'state() { sed "s/.*) //" "/proc/$1/stat" 2>/dev/null | cut -d" " -f"$2"; }',
    'tree() { echo "$1"; for c in $(pgrep -P "$1"); do tree "$c"; done; }',
    'alive() { for p in $PIDS; do s=$(state "$p" 1); [ -n "$s" ] && [ "$s" != Z ] && return 0; done; return 1; }',
    `kill -STOP $(tree ${sid}) 2>/dev/null`,
    `PIDS=$(tree ${sid})`,
    'SIDS=$(for p in $PIDS; do state "$p" 4; done | sort -u)',
    'kill -KILL $PIDS 2>/dev/null',
    'for s in $SIDS; do [ "$s" -gt 1 ] && pkill -KILL -s "$s"; done',
    'i=0; while alive && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done',
    'alive || echo gone',
  ].join('\n');
  return asUser('root', loginUser, inner);
}
