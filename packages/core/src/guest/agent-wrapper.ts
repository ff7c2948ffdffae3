import { shellQuote } from './shell-command.js';

/** `PATH` for scripts the agent starts without one (busybox init gives none). */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment variable that marks every process of one script run (see {@link killText}). */
export const RUN_MARKER_VARIABLE = 'VMKIT_RUN';

/** The files of one script run: `<stem><name>` (see {@link RunPlace}). */
export const RUN_FILES = { stdin: 'in', stdout: 'out', stderr: 'err', exit: 'exit' } as const;

/** One of {@link RUN_FILES}. */
export type RunFile = keyof typeof RUN_FILES;

/**
 * Where one script run lives in the guest: its files are `<stem>in`, `<stem>out`, `<stem>err` and
 * `<stem>exit` (under a temporary directory, named by a random id nobody in the guest can guess
 * before the files exist), and its processes carry `marker`: in the wrapper's own command line
 * (which every subshell forked from it shares) and in the environment of every program started
 * under it (`VMKIT_RUN`).
 */
export interface RunPlace {
  /** The common start of the run's file paths. */
  readonly stem: string;
  /** `vmkit-run-<id>`: what marks the run's processes. */
  readonly marker: string;
}

/** The place of the run `id` (lower-case hex) under the guest directory `tempRoot`. */
export function runPlace(tempRoot: string, id: string): RunPlace {
  if (!/^[0-9a-f]{8,64}$/.test(id)) throw new Error(`run id must be lower-case hex, got ${id}`);
  return { stem: `${tempRoot.replace(/\/+$/, '')}/vmkit-exec-${id}.`, marker: `vmkit-run-${id}` };
}

/** The guest path of one file of a run. */
export function runFile(place: RunPlace, file: RunFile): string {
  return `${place.stem}${RUN_FILES[file]}`;
}

/** The run's files, each quoted for the shell, in one word list. */
function allFiles(place: RunPlace): string {
  return Object.keys(RUN_FILES)
    .map((file) => shellQuote(runFile(place, file as RunFile)))
    .join(' ');
}

/**
 * Shell text that makes the run's stdin file, empty and mode 600, failing if the name exists
 * (`set -C`: an exclusive create, so nothing planted under that name is followed). The agent then
 * writes the input into it.
 */
export function makeStdinFileText(place: RunPlace): string {
  return `umask 077 && set -C && true >${shellQuote(runFile(place, 'stdin'))}`;
}

/**
 * The wrapper `/bin/sh -c` runs in the guest for one script. It marks the run
 * (`VMKIT_RUN=<marker>`, exported), makes the output files (mode 600, exclusive create: `set -C`
 * stays on for every file the wrapper writes, as their names are visible in the guest), runs
 * `command` (shell text, already switched to its user) in a subshell with stdin from the run's
 * stdin file (or `/dev/null`), stdout and stderr to the output files, writes the exit code to the
 * exit file (one write, after everything else) and exits with it, so the agent's process status
 * carries it.
 *
 * No program is started for this: the subshell is a fork of the wrapper and the rest are shell
 * builtins (each program start costs a guest under emulation tens of milliseconds). The script
 * does not get a process group of its own: {@link killText} finds its processes by the marker.
 *
 * With `captureBytes` (for an agent that captures the wrapper's own output), it then prints the
 * first `captureBytes` bytes of the output files on its stdout and stderr (`head`, only for a file
 * that is not empty) and removes the run's files itself (`rm`): no further round trip reads or
 * cleans.
 */
export function wrapperText(
  place: RunPlace,
  command: string,
  options: { stdin: boolean; captureBytes?: number | undefined },
): string {
  const file = (name: RunFile) => shellQuote(runFile(place, name));
  const n = options.captureBytes;
  return [
    `PATH=\${PATH:-${DEFAULT_PATH}}; export PATH`,
    `${RUN_MARKER_VARIABLE}=${place.marker}; export ${RUN_MARKER_VARIABLE}`,
    'umask 077',
    'set -C',
    `true >${file('stdout')} && true >${file('stderr')} || exit 125`,
    `(set +C; eval ${shellQuote(command)}) <${options.stdin ? file('stdin') : '/dev/null'} >>${file('stdout')} 2>>${file('stderr')}`,
    'c=$?',
    `echo $c >${file('exit')}`,
    ...(n === undefined
      ? []
      : [
          `[ -s ${file('stdout')} ] && head -c ${n} ${file('stdout')}`,
          `[ -s ${file('stderr')} ] && head -c ${n} ${file('stderr')} >&2`,
          `rm -f ${allFiles(place)}`,
        ]),
    'exit $c',
  ].join('\n');
}

/**
 * Shell text that stops every process of the run at `place` and removes its files. The processes
 * are found by the run's marker in `/proc/<pid>/cmdline` (the wrapper and the subshells forked from
 * it) and `/proc/<pid>/environ` (every program started under it, and their children): `grep -lz`
 * with a pattern that does not match its own text (`[x]` around one character), so neither the
 * search nor this shell finds itself. They get `TERM`, then `KILL` after `graceMs`, until none is
 * left (a bounded wait); `wrapperPid` gets `KILL` too, should `/proc` be unreadable.
 */
export function killText(place: RunPlace, wrapperPid: number, graceMs: number): string {
  const graceTicks = Math.max(1, Math.ceil(graceMs / 50));
  const id = place.marker.slice('vmkit-run-'.length);
  const pattern = `vmkit-run-[${id.slice(0, 1)}]${id.slice(1)}`;
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
    `kill -9 ${wrapperPid} 2>/dev/null`,
    'n=0',
    'while [ $n -lt 40 ] && hit KILL; do n=$((n+1)); nap; done',
    `rm -f ${allFiles(place)}`,
  ].join('\n');
}

/** Shell text that removes the run's files. */
export function removeText(place: RunPlace): string {
  return `rm -f ${allFiles(place)}`;
}
