import { shellQuote } from './shell-command.js';

/** `PATH` for scripts the agent starts without one (busybox init gives none). */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment variable that marks every process of one script run (see {@link killText}). */
export const RUN_MARKER_VARIABLE = 'VMKIT_RUN';

/** The files of one script run, in its private directory (see {@link RunPlace}). */
export const RUN_FILES = { stdin: 'in', stdout: 'out', stderr: 'err', exit: 'exit' } as const;

/** One of {@link RUN_FILES}. */
export type RunFile = keyof typeof RUN_FILES;

/**
 * Where one script run lives in the guest: a private directory (`mkdir` under `umask 077`, which
 * fails when the name exists and follows no link, so nothing a guest user plants there is ever
 * opened) holding the files `in`, `out`, `err` and `exit`; and the mark its processes carry: in
 * the wrapper's own command line (which every subshell forked from it shares) and in the
 * environment of every program started under it (`VMKIT_RUN`). The run's id is visible in the
 * guest's process list, so the directory, not the name, is what keeps the files the run's own.
 */
export interface RunPlace {
  /** The run's private directory. */
  readonly dir: string;
  /** `vmkit-run-<id>`: what marks the run's processes. */
  readonly marker: string;
}

/** The place of the run `id` (lower-case hex) under the guest directory `tempRoot`. */
export function runPlace(tempRoot: string, id: string): RunPlace {
  if (!/^[0-9a-f]{8,64}$/.test(id)) throw new Error(`run id must be lower-case hex, got ${id}`);
  return { dir: `${tempRoot.replace(/\/+$/, '')}/vmkit-exec-${id}`, marker: `vmkit-run-${id}` };
}

/** The guest path of one file of a run. */
export function runFile(place: RunPlace, file: RunFile): string {
  return `${place.dir}/${RUN_FILES[file]}`;
}

/** Shell text that makes the run's private directory (mode 700; fails if the name exists). */
export function makeRunDirText(place: RunPlace): string {
  return `umask 077 && mkdir ${shellQuote(place.dir)}`;
}

/**
 * The wrapper `/bin/sh -c` runs in the guest for one script. It marks the run
 * (`VMKIT_RUN=<marker>`, exported), makes the run's private directory unless `dirMade` (the stdin
 * file was written there first), runs `command` (shell text, already switched to its user) in a
 * subshell with stdin from the run's stdin file (or `/dev/null`), stdout and stderr to its output
 * files, writes the exit code to the exit file (one write, after everything else) and exits with
 * it, so the agent's process status carries it.
 *
 * Besides `mkdir`, no program is started for this: the subshell is a fork of the wrapper and the
 * rest are shell builtins (each program start costs a guest under emulation tens of
 * milliseconds). The script does not get a process group of its own: {@link killText} finds its
 * processes by the mark.
 *
 * With `captureBytes` (for an agent that captures the wrapper's own output), it then prints the
 * first `captureBytes` bytes of the output files on its stdout and stderr (`head`, only for a file
 * that is not empty) and removes the directory itself (`rm`): no further round trip reads or
 * cleans.
 */
export function wrapperText(
  place: RunPlace,
  command: string,
  options: { dirMade: boolean; stdin: boolean; captureBytes?: number | undefined },
): string {
  const file = (name: RunFile) => shellQuote(runFile(place, name));
  const n = options.captureBytes;
  return [
    `PATH=\${PATH:-${DEFAULT_PATH}}; export PATH`,
    `${RUN_MARKER_VARIABLE}=${place.marker}; export ${RUN_MARKER_VARIABLE}`,
    'umask 077',
    ...(options.dirMade ? [] : [`mkdir ${shellQuote(place.dir)} || exit 125`]),
    `(eval ${shellQuote(command)}) <${options.stdin ? file('stdin') : '/dev/null'} >${file('stdout')} 2>${file('stderr')}`,
    'c=$?',
    `echo $c >${file('exit')}`,
    ...(n === undefined
      ? []
      : [
          `[ -s ${file('stdout')} ] && head -c ${n} ${file('stdout')}`,
          `[ -s ${file('stderr')} ] && head -c ${n} ${file('stderr')} >&2`,
          `rm -rf ${shellQuote(place.dir)}`,
        ]),
    'exit $c',
  ].join('\n');
}

/** A `grep` pattern matching the run's mark but not its own text (`[x]` around one character). */
function markPattern(place: RunPlace): string {
  const id = place.marker.slice('vmkit-run-'.length);
  return `vmkit-run-[${id.slice(0, 1)}]${id.slice(1)}`;
}

/**
 * Shell text that exits 0 while the wrapper `wrapperPid` of the run still runs: the pid exists and
 * its command line carries the run's mark (a pid the guest gave to another process since is never
 * taken for the wrapper).
 */
export function wrapperAliveText(place: RunPlace, wrapperPid: number): string {
  return `grep -qz -e '${markPattern(place)}' /proc/${wrapperPid}/cmdline 2>/dev/null`;
}

/**
 * Shell text that stops every process of the run at `place` and removes its directory. The
 * processes are found by the run's mark in `/proc/<pid>/cmdline` (the wrapper and the subshells
 * forked from it) and `/proc/<pid>/environ` (every program started under it, and their children):
 * `grep -lz` with a pattern that does not match its own text, so neither the search nor this shell
 * finds itself. They get `TERM`, then `KILL` after `graceMs`, until none is left (a bounded wait).
 * The wrapper `wrapperPid` gets `KILL` too, but only while its command line carries the mark.
 */
export function killText(place: RunPlace, wrapperPid: number, graceMs: number): string {
  const graceTicks = Math.max(1, Math.ceil(graceMs / 50));
  const pattern = markPattern(place);
  return [
    `PATH=\${PATH:-${DEFAULT_PATH}}; export PATH`,
    'nap() { sleep 0.05 2>/dev/null || sleep 1; }',
    // Sends signal $1 to every marked process but this shell; true when there was one.
    'hit() {',
    '  found=1',
    `  for f in $(grep -lz -e '${pattern}' /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null); do`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansions, not a template
    '    p=${f#/proc/}; p=${p%%/*}',
    '    [ "$p" = "$$" ] && continue',
    '    kill -$1 "$p" 2>/dev/null && found=0',
    '  done',
    '  return $found',
    '}',
    'hit TERM',
    'n=0',
    `while [ $n -lt ${graceTicks} ] && hit 0; do n=$((n+1)); nap; done`,
    `${wrapperAliveText(place, wrapperPid)} && kill -9 ${wrapperPid} 2>/dev/null`,
    'n=0',
    'while [ $n -lt 40 ] && hit KILL; do n=$((n+1)); nap; done',
    `rm -rf ${shellQuote(place.dir)}`,
  ].join('\n');
}

/** Shell text that removes the run's directory. */
export function removeText(place: RunPlace): string {
  return `rm -rf ${shellQuote(place.dir)}`;
}
