import type { NodeScript, RunScriptOptions } from '../../model/guest-exec.js';
import {
  asUserCommand,
  isRootUser,
  SETUP_FAILURE_EXIT,
  scriptShellText,
  shellQuote,
} from '../shell-command.js';

/** What follows the marker on stderr when a non-root login has no `sudo` to become root with. */
export const NO_SUDO = 'sudo';

/**
 * `text` run by a root shell from a login of `loginUser`: `/bin/sh -c` when that is root, else
 * through `sudo -n` (never asking for a password). A guest without `sudo` writes
 * `<marker>:sudo` on stderr and exits with the setup-failure code.
 */
export function rootShell(loginUser: string, text: string, marker: string): string {
  const shell = `/bin/sh -c ${shellQuote(text)}`;
  if (loginUser === 'root') return shell;
  return (
    `if command -v sudo >/dev/null 2>&1; then exec sudo -n ${shell}; ` +
    `else printf '%s\\n' ${shellQuote(`${marker}:${NO_SUDO}`)} >&2; exit ${SETUP_FAILURE_EXIT}; fi`
  );
}

/**
 * `text` run as root when the login can become root (it is root, or `sudo` is there), else as
 * the login user: for copies and kills, which the login user may do on its own where it may.
 */
export function privilegedShell(loginUser: string, text: string): string {
  const shell = `/bin/sh -c ${shellQuote(text)}`;
  if (loginUser === 'root') return shell;
  return `if command -v sudo >/dev/null 2>&1; then exec sudo -n ${shell}; else exec ${shell}; fi`;
}

/**
 * The command line an SSH exec runs for a script. It prints the PID of the login shell first
 * (the root of every process the script starts, which is what a kill ends), then runs the script
 * as the guest layer's shell text says ({@link scriptShellText}: umask, `env`, `cwd`) as `user`:
 * directly when that is the login user, else from a root shell (`su`, through `sudo -n` when the
 * login is not root). A missing user, `cwd` or `sudo` is reported with `marker`.
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
  else if (isRootUser(user)) run = rootShell(loginUser, text, marker);
  else run = rootShell(loginUser, asUserCommand(user, text, marker), marker);
  return `echo "$$"; ${run}`;
}

/**
 * A command that kills the script whose login shell is `pid` and everything it started, reading
 * `/proc` with shell built-ins only (no procps in minimal guests): the processes descending from
 * it, and those of every session they span (`su` starts one of its own), are frozen as they are
 * found (SIGSTOP, so none forks meanwhile) until no new one turns up, then killed. It runs as
 * root when it can, waits until none is left (up to about 5 s) and prints `gone` when none is.
 */
export function killTreeCommand(pid: number, loginUser: string): string {
  const inner = [
    // state, parent and session of a process, from /proc/<pid>/stat after its "(name) ".
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    'info() { line=; read -r line < "/proc/$1/stat" 2>/dev/null || return 1; set -- ${line##*) }; S=$1; PP=$2; SESS=$4; }',
    `T=" ${pid} "; SS=" "; kill -STOP ${pid} 2>/dev/null`,
    'changed=1',
    'while [ $changed = 1 ]; do changed=0',
    '  for p in $T; do info "$p" || continue; case "$SS" in *" $SESS "*) ;; *) [ "$SESS" -gt 1 ] && SS="$SS$SESS " && changed=1;; esac; done',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    '  for d in /proc/[0-9]*; do p=${d#/proc/}; case "$T" in *" $p "*) continue;; esac',
    '    info "$p" || continue',
    '    hit=0; case "$T" in *" $PP "*) hit=1;; esac; case "$SS" in *" $SESS "*) hit=1;; esac',
    '    [ $hit = 1 ] || continue',
    '    T="$T$p "; changed=1; kill -STOP "$p" 2>/dev/null',
    '  done',
    'done',
    'kill -KILL $T 2>/dev/null',
    // A killed process stays a zombie until its parent reaps it: only the not-yet-dead count.
    'alive() { for p in $T; do info "$p" && [ "$S" != Z ] && return 0; done; return 1; }',
    'i=0; while alive && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done',
    'alive || echo gone',
  ].join('\n');
  return privilegedShell(loginUser, inner);
}
