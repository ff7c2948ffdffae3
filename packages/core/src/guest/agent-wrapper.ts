import { SETUP_FAILURE_EXIT, shellQuote } from './shell-command.js';

/** `PATH` for scripts the agent starts without one (busybox init gives none). */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment variable that marks every process of one script run (see {@link killText}). */
export const RUN_MARKER_VARIABLE = 'VMKIT_RUN';

/** The files of one script run, named `<id>.<suffix>` in the run directory (see {@link RunPlace}). */
export const RUN_FILES = { stdin: 'in', stdout: 'out', stderr: 'err', exit: 'exit' } as const;

/** One of {@link RUN_FILES}. */
export type RunFile = keyof typeof RUN_FILES;

/**
 * Where one script run lives in the guest: a private run directory (made once per node and kept,
 * see {@link makeRunDirText}) holding the run's files `<id>.in`, `<id>.out`, `<id>.err` and
 * `<id>.exit`; and the mark its processes carry: in the wrapper's own command line (which every
 * subshell forked from it shares) and in the environment of every program started under it
 * (`VMKIT_RUN`). The run's id is visible in the guest's process list; the directory (mode 700,
 * owned by the agent's user, in a sticky `/tmp`) is what keeps the files the run's own.
 */
export interface RunPlace {
  /** The run directory. */
  readonly dir: string;
  /** The run's id: lower-case hex. */
  readonly id: string;
  /** `vmkit-run-<id>`: what marks the run's processes. */
  readonly marker: string;
}

/** The place of the run `id` (lower-case hex) in the run directory `dir`. */
export function runPlace(dir: string, id: string): RunPlace {
  if (!/^[0-9a-f]{8,64}$/.test(id)) throw new Error(`run id must be lower-case hex, got ${id}`);
  return { dir: dir.replace(/\/+$/, ''), id, marker: `vmkit-run-${id}` };
}

/** The guest path of one file of a run. */
export function runFile(place: RunPlace, file: RunFile): string {
  return `${place.dir}/${place.id}.${RUN_FILES[file]}`;
}

/** The guest paths of every file of a run, quoted for the shell. */
function runFiles(place: RunPlace): string {
  return (Object.keys(RUN_FILES) as RunFile[]).map((f) => shellQuote(runFile(place, f))).join(' ');
}

/**
 * Shell text that makes a run directory `dir` (mode 700 under `umask 077`; `mkdir` fails when the
 * name exists and follows no link, so nothing a guest user planted there is ever used).
 */
export function makeRunDirText(dir: string): string {
  return `umask 077 && mkdir ${shellQuote(dir)}`;
}

/**
 * Shell text, builtins only, true while `dir` is still the run directory: a directory, not a link,
 * owned by the user running the test. In a sticky `/tmp` nobody else can rename or remove it, so
 * what was checked stays so.
 */
export function runDirCheckText(dir: string): string {
  const d = shellQuote(dir);
  return `[ -d ${d} ] && [ ! -h ${d} ] && [ -O ${d} ]`;
}

/**
 * The wrapper `/bin/sh -c` runs in the guest for one script. It marks the run
 * (`VMKIT_RUN=<marker>`, exported), checks that the run directory is still its own (builtins
 * only; when not, it writes `lostLine` on its stderr and exits {@link SETUP_FAILURE_EXIT}, nothing
 * run: `lostLine` should be random per run so no script forges it), runs
 * `command` (shell text, already switched to its user) in a subshell with stdin from the run's
 * stdin file (or `/dev/null`), stdout and stderr to its output files, writes the exit code to the
 * exit file (one write, after everything else) and exits with it, so the agent's process status
 * carries it.
 *
 * No program is started for this: the subshell is a fork of the wrapper and the rest are shell
 * builtins (each program start costs a guest under emulation tens of milliseconds). The script
 * does not get a process group of its own: {@link killText} finds its processes by the mark.
 *
 * With `captureBytes` (for an agent that captures the wrapper's own output), it then prints the
 * first `captureBytes` bytes of the output files on its stdout and stderr (`head`, only for a file
 * that is not empty) and removes the run's files itself, in the background with its output
 * closed (the agent reports the wrapper's end without waiting for that `rm`): no further round
 * trip reads or cleans.
 */
export function wrapperText(
  place: RunPlace,
  command: string,
  options: { stdin: boolean; lostLine: string; captureBytes?: number | undefined },
): string {
  const file = (name: RunFile) => shellQuote(runFile(place, name));
  const n = options.captureBytes;
  return [
    `PATH=\${PATH:-${DEFAULT_PATH}}; export PATH`,
    `${RUN_MARKER_VARIABLE}=${place.marker}; export ${RUN_MARKER_VARIABLE}`,
    'umask 077',
    `${runDirCheckText(place.dir)} || { printf '%s\\n' ${shellQuote(options.lostLine)} >&2; exit ${SETUP_FAILURE_EXIT}; }`,
    `(eval ${shellQuote(command)}) <${options.stdin ? file('stdin') : '/dev/null'} >${file('stdout')} 2>${file('stderr')}`,
    'c=$?',
    `echo $c >${file('exit')}`,
    ...(n === undefined
      ? []
      : [
          `[ -s ${file('stdout')} ] && head -c ${n} ${file('stdout')}`,
          `[ -s ${file('stderr')} ] && head -c ${n} ${file('stderr')} >&2`,
          `rm -f ${runFiles(place)} </dev/null >/dev/null 2>&1 &`,
        ]),
    'exit $c',
  ].join('\n');
}

/** A `grep` pattern matching the run's mark but not its own text (`[x]` around one character). */
function markPattern(place: RunPlace): string {
  const id = place.id;
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
 * Shell text that stops every process of the run at `place` and removes its files. The
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
    `${runDirCheckText(place.dir)} && rm -f ${runFiles(place)}`,
    'exit 0',
  ].join('\n');
}

/**
 * Shell text that checks the run directory is still its own and, with `stdin`, makes the run's
 * empty stdin file there (mode 600), for the agent to write into: exit 0 when ready, else non-zero
 * and nothing made. Only root can rename or remove root's directory in a sticky `/tmp`, so what
 * was checked holds when the agent then opens the file.
 */
export function prepareRunText(place: RunPlace, stdin: boolean): string {
  const check = runDirCheckText(place.dir);
  return stdin ? `umask 077 && ${check} && : >${shellQuote(runFile(place, 'stdin'))}` : check;
}

/** Shell text that removes the run's files (while the run directory is still its own). */
export function removeText(place: RunPlace): string {
  return `${runDirCheckText(place.dir)} && rm -f ${runFiles(place)}; exit 0`;
}

/**
 * Shell text that removes a run directory and what is left in it, only while it is still the
 * one made (a directory, not a link, owned by this user): a name a guest user took after the
 * guest emptied `/tmp` is left alone.
 */
export function removeRunDirText(dir: string): string {
  return `${runDirCheckText(dir)} && rm -rf ${shellQuote(dir)}; exit 0`;
}
