import type { NodeScript, RunScriptOptions } from '../../model/guest-exec.js';
import { asUserCommand, isRootUser, scriptShellText, shellQuote } from '../shell-command.js';

/**
 * `text` run by a root shell from a login of `loginUser`: `/bin/sh -c` when that is root, else
 * through `sudo -n` (never asking for a password).
 */
export function rootShell(loginUser: string, text: string): string {
  const shell = `/bin/sh -c ${shellQuote(text)}`;
  return loginUser === 'root' ? shell : `sudo -n ${shell}`;
}

/**
 * The command line an SSH exec runs for a script. It prints the PID of the login shell first
 * (the root of every process the script starts, which is what a kill ends), then runs the script
 * as the guest layer's shell text says ({@link scriptShellText}: umask, `env`, `cwd`) as `user`:
 * directly when that is the login user, else from a root shell (`su`, through `sudo -n` when the
 * login is not root). A missing user or `cwd` is reported with `marker` (see `setupFailure`).
 */
export function remoteCommand(
  script: NodeScript,
  options: Pick<RunScriptOptions, 'user' | 'env' | 'cwd'>,
  loginUser: string,
  marker: string,
): string {
  const text = scriptShellText(script, options, marker);
  const user = options.user ?? 'root';
  let run: string;
  if (user === loginUser) run = `/bin/sh -c ${shellQuote(text)}`;
  else if (isRootUser(user)) run = rootShell(loginUser, text);
  else run = rootShell(loginUser, asUserCommand(user, text, marker));
  return `echo "$$"; ${run}`;
}

/**
 * A command that kills the script started as session `sid` and everything it started: the
 * process tree under the login shell is frozen (SIGSTOP, so nothing forks meanwhile), listed
 * again, then killed with every process of the sessions it spans (`su` starts one of its own).
 * It runs as root, waits until none is left (up to about 5 s) and prints `gone` when none is.
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
  return rootShell(loginUser, inner);
}
