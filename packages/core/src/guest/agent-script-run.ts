import { randomBytes } from 'node:crypto';
import { isAbortError, VmkitError } from '../errors/vmkit-error.js';
import type { NodeScript, RunScriptOptions, ScriptResult } from '../model/guest-exec.js';
import type { GuestAgent, GuestProcessStatus } from '../spi/guest-agent.js';
import { abortedError, raceAbort, throwIfAborted } from '../util/abort.js';
import { inputChunks, readToEnd, writeGuestFile } from './agent-files.js';
import { exitCodeOf, PollPacer, runShell, spawnShell, waitForExit } from './agent-process.js';
import type { RunDirKeeper } from './agent-run-dir.js';
import {
  killText,
  prepareRunText,
  type RunPlace,
  removeText,
  runFile,
  runPlace,
  wrapperAliveText,
  wrapperText,
} from './agent-wrapper.js';
import { DEFAULT_MAX_OUTPUT_BYTES, ScriptOutput } from './output-collector.js';
import {
  asUserCommand,
  checkScriptRequest,
  SETUP_FAILURE_EXIT,
  scriptShellText,
  setupFailure,
  setupFailureError,
} from './shell-command.js';

/** How an agent script run behaves; the transport sets it. */
export interface AgentRunSettings {
  /** The guest's run directory, kept across runs. */
  readonly runDir: RunDirKeeper;
  /** Time between `TERM` and `KILL` when a script is stopped. */
  readonly killGraceMs: number;
  /** Output is read while the script runs once it has run this long (short scripts: once, at the end). */
  readonly streamAfterMs: number;
  /** Takes cleanup that goes on after the call returned (an aborted run's kill). */
  readonly background: (work: Promise<unknown>) => void;
}

type Stream = 'stdout' | 'stderr';

/** Bounds the cleanup calls made after the run's own signal fired. */
const CLEANUP_TIMEOUT_MS = 30_000;

/**
 * One script run through a guest agent: its files in the guest's kept private run directory (made
 * again, and the run tried once more, when the wrapper finds it gone), the wrapper marking the
 * run's processes, output read by offset (while it runs, and to the end after) or handed back
 * through the agent's capture, and the kill on timeout or abort.
 */
export class AgentScriptRun {
  readonly #agent: GuestAgent;
  readonly #settings: AgentRunSettings;
  readonly #options: RunScriptOptions;
  #output: ScriptOutput;
  readonly #id = randomBytes(8).toString('hex');
  #place: RunPlace | undefined;
  readonly #marker: string;
  readonly #stop = new AbortController();
  readonly #handles: Partial<Record<Stream, number>> = {};
  #pid: number | undefined;
  #filesMaybeMade = false;
  /** Whether the run was started again after its run directory was found gone (once at most). */
  #retried = false;
  /** What the wrapper itself wrote on stderr, when the agent captured it (not the script's). */
  #wrapperStderr: string | undefined;
  #timedOut = false;
  #spawning: Promise<number> | undefined;
  #exited = false;
  readonly #maxOutput: number;
  /** Bytes per stream the wrapper hands back through the agent's capture, when that path is taken. */
  #capture: number | undefined;

  constructor(agent: GuestAgent, options: RunScriptOptions, settings: AgentRunSettings) {
    this.#agent = agent;
    this.#options = options;
    this.#settings = settings;
    this.#output = new ScriptOutput(options);
    this.#maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    this.#capture = captureBytes(agent, options, this.#maxOutput);
    this.#marker = `vmkit-setup-${randomBytes(8).toString('hex')}`;
  }

  /** Runs `script` to its end. */
  async run(script: NodeScript): Promise<ScriptResult> {
    checkScriptRequest(script, this.#options);
    throwIfAborted(this.#options.signal, 'script');
    const started = Date.now();
    const { signal, timeoutMs } = this.#options;
    const onAbort = () => this.#stop.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            this.#timedOut = true;
            this.#stop.abort(new VmkitError('TIMEOUT', `script timed out after ${timeoutMs} ms`));
          }, timeoutMs);
    try {
      let exitCode = await this.#start(script).then(() => this.#follow());
      if (this.#dirLost(exitCode)) {
        // The script did not run: once more, in a run directory made again.
        this.#retry();
        exitCode = await this.#start(script).then(() => this.#follow());
        if (this.#dirLost(exitCode)) throw this.#dirLostError();
      }
      await this.#finish();
      const failed = setupFailure(this.#marker, exitCode, this.#output.partial().stderr);
      if (failed) throw setupFailureError(failed, this.#options);
      return this.#output.result(exitCode, Date.now() - started, 'agent');
    } catch (error) {
      throw await this.#fail(error);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async #start(script: NodeScript): Promise<void> {
    const signal = this.#stop.signal;
    const { stdin } = this.#options;
    const place = runPlace(await this.#settings.runDir.dir(this.#agent, signal), this.#id);
    this.#place = place;
    this.#wrapperStderr = undefined;
    // Checked in a round trip of its own before stdin is written into it (the agent writes where
    // the path leads), and before every run of an agent that cannot hand back the wrapper's word.
    if (stdin !== undefined || !this.#capturesWrapper) {
      this.#filesMaybeMade = stdin !== undefined;
      const ready = await runShell(this.#agent, prepareRunText(place, stdin !== undefined), { signal });
      if (ready !== 0) {
        if (this.#retried) throw this.#dirLostError();
        this.#retry();
        return this.#start(script);
      }
    }
    if (stdin !== undefined)
      await writeGuestFile(this.#agent, runFile(place, 'stdin'), inputChunks(stdin), { signal });
    const command = asUserCommand(
      this.#options.user,
      scriptShellText(script, this.#options, this.#marker),
      this.#marker,
    );
    const wrapper = wrapperText(place, command, {
      stdin: stdin !== undefined,
      lostLine: this.#lostLine,
      captureBytes: this.#capture,
    });
    this.#filesMaybeMade = true;
    // The wrapper's own output is kept where the agent can: it says when the run directory was lost.
    // The spawn itself is not abandoned on abort: once the wrapper's pid is known it can be killed.
    this.#spawning = spawnShell(this.#agent, wrapper, undefined, this.#capturesWrapper);
    this.#pid = await raceAbort(this.#spawning, signal, 'script');
  }

  /** The run's place, once the run started. */
  get #placed(): RunPlace {
    if (!this.#place) throw new Error('the run has no place yet');
    return this.#place;
  }

  /** What the wrapper writes on stderr when it finds the run directory gone. */
  get #lostLine(): string {
    return `${this.#marker}:rundir`;
  }

  /** Whether the agent hands back the wrapper's own output (its word that the directory was lost). */
  get #capturesWrapper(): boolean {
    return this.#agent.captureOutputBytes !== undefined;
  }

  /**
   * Whether the wrapper found the run directory gone (and so ran nothing), as its own stderr says
   * under the run's random mark. Only an agent that hands that back can tell; without one the
   * directory was checked just before the spawn, and an exit {@link SETUP_FAILURE_EXIT} is the
   * script's own (never a reason to run it again).
   */
  #dirLost(exitCode: number): boolean {
    if (exitCode !== SETUP_FAILURE_EXIT || !this.#capturesWrapper) return false;
    return (this.#wrapperStderr ?? '').trimEnd().split('\n').pop() === this.#lostLine;
  }

  /** The error of a run whose directory was found gone twice: the script did not run. */
  #dirLostError(): VmkitError {
    return new VmkitError(
      'PROVIDER',
      'the run directory in the guest was removed again as the script started; the script did not run',
      { details: { dir: this.#placed.dir } },
    );
  }

  /** Forgets the lost run directory and what the first attempt did, for the one retry. */
  #retry(): void {
    this.#retried = true;
    this.#settings.runDir.lost(this.#placed.dir);
    this.#output = new ScriptOutput(this.#options);
    this.#pid = undefined;
    this.#spawning = undefined;
    this.#exited = false;
    this.#filesMaybeMade = false;
  }

  /** Polls the wrapper until it ends, reading output while it runs once it ran `streamAfterMs`. */
  async #follow(): Promise<number> {
    const signal = this.#stop.signal;
    const pacer = new PollPacer();
    const started = Date.now();
    for (;;) {
      await pacer.pause(signal);
      const status = await this.#agent
        .processStatus(this.#pid as number, { signal })
        .catch(async (error: unknown) => {
          if (!VmkitError.is(error, 'NOT_FOUND')) throw error;
          return this.#recordedExit(error);
        });
      if (status.exited) {
        this.#pid = undefined;
        this.#exited = true;
        if (this.#capture !== undefined) {
          // The wrapper printed the output's head and removed the run's files.
          await this.#feed('stdout', status.stdout ?? new Uint8Array(), signal);
          await this.#feed('stderr', status.stderr ?? new Uint8Array(), signal);
          this.#filesMaybeMade = false;
        }
        if (status.stderr) this.#wrapperStderr = Buffer.from(status.stderr).toString('utf8');
        return exitCodeOf(status);
      }
      // Output is read while the script runs only for a listener; otherwise once, at the end.
      if (this.#options.onOutput && Date.now() - started >= this.#settings.streamAfterMs)
        await this.#drainAll(signal, true);
    }
  }

  /**
   * The exit the wrapper wrote to its exit file, for an agent that lost track of its process (it was
   * restarted): still running while the file is not there yet.
   */
  async #recordedExit(lost: VmkitError): Promise<GuestProcessStatus> {
    // What the agent captured is gone with it: the output is read from the files, as without capture.
    this.#capture = undefined;
    let text = await this.#readExitFile();
    if (text === undefined) {
      // No exit file yet: running on, unless the wrapper is gone (then it may have just written it).
      const alive = await runShell(this.#agent, wrapperAliveText(this.#placed, this.#pid as number), {
        timeoutMs: 30_000,
      });
      if (alive === 0) return { exited: false };
      text = await this.#readExitFile();
      if (text === undefined)
        throw new VmkitError(
          'PROVIDER',
          'the guest agent lost track of the script, which left no exit code',
          {
            cause: lost,
          },
        );
    }
    const code = Number(text.trim());
    return Number.isInteger(code) && text.trim() !== ''
      ? { exited: true, exitCode: code }
      : { exited: false };
  }

  /** The text of the run's exit file, or `undefined` when it cannot be opened. */
  async #readExitFile(): Promise<string | undefined> {
    let handle: number;
    try {
      handle = await this.#agent.openFile(runFile(this.#placed, 'exit'), 'r');
    } catch {
      return undefined;
    }
    let text = '';
    try {
      await readToEnd(this.#agent, handle, (chunk) => {
        text += Buffer.from(chunk).toString('utf8');
      });
    } finally {
      await this.#agent.closeFile(handle).catch(() => undefined);
    }
    return text;
  }

  /**
   * Hands a chunk on; waits while the listener holds output back (its promise), but only within
   * `signal`: a timeout or abort is not held up by a listener, and without a signal (the last read
   * after a timeout) nothing waits.
   */
  async #feed(stream: Stream, chunk: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    const pending = this.#output.push(stream, chunk);
    if (pending && signal) await raceAbort(pending, signal, 'script');
  }

  /** Reads what both streams hold now; `lenient` skips a file the wrapper has not made yet. */
  async #drainAll(signal: AbortSignal | undefined, lenient: boolean): Promise<void> {
    for (const stream of ['stdout', 'stderr'] as const) {
      let handle = this.#handles[stream];
      if (handle === undefined) {
        const path = runFile(this.#placed, stream);
        try {
          handle = await this.#agent.openFile(path, 'r', signal ? { signal } : {});
        } catch (error) {
          if (lenient && !isAbortError(error)) continue;
          throw error;
        }
        this.#handles[stream] = handle;
      }
      // Without a listener, reading stops once the kept output is full and more is known to exist.
      const enough = this.#options.onOutput ? undefined : () => this.#output.bytes(stream) > this.#maxOutput;
      await readToEnd(this.#agent, handle, (chunk) => this.#feed(stream, chunk, signal), {
        signal,
        ...(enough ? { enough } : {}),
      });
    }
  }

  async #closeHandles(): Promise<void> {
    for (const stream of ['stdout', 'stderr'] as const) {
      const handle = this.#handles[stream];
      if (handle === undefined) continue;
      delete this.#handles[stream];
      await this.#agent.closeFile(handle).catch(() => undefined);
    }
  }

  /** After a normal end: the rest of the output, then the run's files go (unless the wrapper did both). */
  async #finish(): Promise<void> {
    if (this.#capture !== undefined) return;
    try {
      await this.#drainAll(this.#stop.signal, false);
    } finally {
      await this.#closeHandles();
    }
    this.#filesMaybeMade = false;
    const removed = await runShell(this.#agent, removeText(this.#placed), { timeoutMs: CLEANUP_TIMEOUT_MS });
    if (removed !== 0)
      throw new VmkitError('PROVIDER', `could not remove the run's files in the guest (exit ${removed})`, {
        details: { dir: this.#placed.dir, run: this.#id },
      });
  }

  /** The error to throw for `error`, after the guest processes were stopped and the run's files removed. */
  async #fail(error: unknown): Promise<unknown> {
    const stopped = this.#stop.signal.aborted && (isAbortError(error) || VmkitError.is(error, 'TIMEOUT'));
    const cleanup = this.#cleanUp();
    if (this.#timedOut && stopped) {
      await cleanup;
      return this.#output.stoppedError('TIMEOUT', 'agent', { timeoutMs: this.#options.timeoutMs });
    }
    this.#settings.background(cleanup);
    if (stopped) {
      const signal = this.#options.signal;
      const cause = signal?.aborted ? abortedError(signal, 'script') : error;
      return this.#output.stoppedError('ABORTED', 'agent', { cause });
    }
    return error;
  }

  /** Reads what output is there, kills the run's processes, removes its files; never throws. */
  async #cleanUp(): Promise<void> {
    const limit = { timeoutMs: CLEANUP_TIMEOUT_MS };
    try {
      if (this.#timedOut) await this.#drainAll(undefined, true).catch(() => undefined);
      await this.#closeHandles();
      const pid =
        this.#pid ??
        (this.#spawning && !this.#exited ? await this.#spawning.catch(() => undefined) : undefined);
      if (pid !== undefined) {
        await runShell(this.#agent, killText(this.#placed, pid, this.#settings.killGraceMs), limit);
        await waitForExit(this.#agent, pid, limit).catch(() => undefined);
      } else if (this.#filesMaybeMade) {
        await runShell(this.#agent, removeText(this.#placed), limit);
      }
    } catch {
      // Best effort: the agent went away; the files are left to the run directory's removal.
    }
  }
}

/**
 * The bytes per stream a wrapper prints back through the agent's output capture
 * (`maxOutputBytes + 1`: enough to keep what is kept and to know whether more came), or
 * `undefined` when the files must be read instead: an agent without capture, a listener
 * (`onOutput` streams while the script runs), stdin to feed, or more output than the agent carries.
 */
function captureBytes(agent: GuestAgent, options: RunScriptOptions, maxOutput: number): number | undefined {
  const limit = agent.captureOutputBytes;
  if (limit === undefined || options.onOutput || options.stdin !== undefined) return undefined;
  const perStream = maxOutput + 1;
  return 2 * perStream <= limit ? perStream : undefined;
}
