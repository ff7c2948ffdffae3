import { shellQuote } from './shell-command.js';

/** `PATH` for scripts the agent starts without one (busybox init gives none). */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The files of one script run in its private guest directory. */
export const RUN_FILES = { stdin: 'in', stdout: 'out', stderr: 'err', pid: 'pid', exit: 'exit' } as const;

/** Shell text that makes the private directory `dir` (mode 700; fails if it exists). */
export function makeRunDirText(dir: string): string {
  return `umask 077 && mkdir ${shellQuote(dir)}`;
}

/**
 * The wrapper `/bin/sh -c` runs in the guest for one script: it makes the private directory `dir`
 * (mode 700) unless `dirMade`, starts `command` (shell text, already switched to its user) in a
 * session and process group of its own (`setsid`) with stdin from `dir/in` (or `/dev/null`), stdout
 * and stderr to `dir/out` and `dir/err`, writes the group's id to `dir/pid`, waits, writes the exit
 * code to `dir/exit` (one write, after everything else) and exits with it, so the agent's process
 * status carries it. Only `mkdir` and `setsid` are programs; the rest are shell builtins.
 */
export function wrapperText(
  dir: string,
  command: string,
  options: { dirMade: boolean; stdin: boolean },
): string {
  const d = shellQuote(dir);
  return [
    `PATH=\${PATH:-${DEFAULT_PATH}}; export PATH`,
    'umask 077',
    ...(options.dirMade ? [] : [`mkdir ${d} || exit 125`]),
    `cd ${d} || exit 125`,
    `setsid /bin/sh -c ${shellQuote(command)} <${options.stdin ? RUN_FILES.stdin : '/dev/null'} >${RUN_FILES.stdout} 2>${RUN_FILES.stderr} &`,
    `echo $! >${RUN_FILES.pid}`,
    'wait $!',
    'c=$?',
    `echo $c >${RUN_FILES.exit}`,
    'exit $c',
  ].join('\n');
}

/**
 * Shell text that stops the script of `dir` started by the wrapper `wrapperPid`: it waits (briefly)
 * for the group id in `dir/pid` unless the wrapper is gone, sends `TERM` to the whole process group,
 * then `KILL` after `graceMs`, waits until the group is gone, and removes `dir`.
 */
export function killText(dir: string, wrapperPid: number, graceMs: number): string {
  const d = shellQuote(dir);
  const graceTicks = Math.max(1, Math.ceil(graceMs / 50));
  return [
    `PATH=\${PATH:-${DEFAULT_PATH}}; export PATH`,
    'nap() { sleep 0.05 2>/dev/null || sleep 1; }',
    'p=',
    'n=0',
    `while [ -d ${d} ] && ! read p <${d}/${RUN_FILES.pid} 2>/dev/null; do`,
    `  kill -0 ${wrapperPid} 2>/dev/null || break`,
    '  n=$((n+1)); [ $n -ge 100 ] && break',
    '  nap',
    'done',
    'if [ -n "$p" ]; then',
    '  kill -15 -$p 2>/dev/null',
    '  n=0',
    '  while kill -0 -$p 2>/dev/null; do',
    `    n=$((n+1)); [ $n -ge ${graceTicks} ] && break`,
    '    nap',
    '  done',
    '  kill -9 -$p 2>/dev/null',
    '  n=0',
    '  while kill -0 -$p 2>/dev/null && [ $n -lt 40 ]; do n=$((n+1)); nap; done',
    'else',
    `  kill -9 ${wrapperPid} 2>/dev/null`,
    'fi',
    `rm -rf ${d}`,
  ].join('\n');
}

/** Shell text that removes `dir`. */
export function removeText(path: string): string {
  return `rm -rf ${shellQuote(path)}`;
}
