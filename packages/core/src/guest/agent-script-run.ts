import { randomBytes } from 'node:crypto';
import { isAbortError, VmkitError } from '../errors/vmkit-error.js';
import type { NodeScript, RunScriptOptions, ScriptResult } from '../model/guest-exec.js';
import type { GuestAgent, GuestProcessStatus } from '../spi/guest-agent.js';
import { abortedError, raceAbort, throwIfAborted } from '../util/abort.js';
import { inputChunks, readToEnd, writeGuestFile } from './agent-files.js';
import { exitCodeOf, PollPacer, runShell, spawnShell, waitForExit } from './agent-process.js';
import {
  killText,
  makeRunDirText,
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
  scriptShellText,
  setupFailure,
  setupFailureError,
} from './shell-command.js';

/** How an agent script run behaves; the transport sets it. */
export interface AgentRunSettings {
  /** Guest directory for the private run directories (default `/tmp`). */
  readonly tempRoot: string;
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
 * One script run through a guest agent: a private run directory, the wrapper marking the run's
 * processes, output read by offset (while it runs, and to the end after) or handed back through
 * the agent's capture, and the kill on timeout or abort.
 */
export class AgentScriptRun {
  readonly #agent: GuestAgent;
  readonly #settings: AgentRunSettings;
  readonly #options: RunScriptOptions;
  readonly #output: ScriptOutput;
  readonly #place: RunPlace;
  readonly #marker: string;
  readonly #stop = new AbortController();
  readonly #handles: Partial<Record<Stream, number>> = {};
  #pid: number | undefined;
  #dirMaybeMade = false;
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
    this.#place = runPlace(settings.tempRoot, randomBytes(8).toString('hex'));
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
      const exitCode = await this.#start(script).then(() => this.#follow());
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
    if (stdin !== undefined) {
      this.#dirMaybeMade = true;
      const made = await runShell(this.#agent, makeRunDirText(this.#place), { signal });
      if (made !== 0)
        throw new VmkitError('PROVIDER', `could not make a private directory in the guest (exit ${made})`, {
          details: { dir: this.#place.dir },
        });
      await writeGuestFile(this.#agent, runFile(this.#place, 'stdin'), inputChunks(stdin), { signal });
    }
    const command = asUserCommand(
      this.#options.user,
      scriptShellText(script, this.#options, this.#marker),
      this.#marker,
    );
    const wrapper = wrapperText(this.#place, command, {
      dirMade: stdin !== undefined,
      stdin: stdin !== undefined,
      captureBytes: this.#capture,
    });
    this.#dirMaybeMade = true;
    // The spawn itself is not abandoned on abort: once the wrapper's pid is known it can be killed.
    this.#spawning = spawnShell(this.#agent, wrapper, undefined, this.#capture !== undefined);
    this.#pid = await raceAbort(this.#spawning, signal, 'script');
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
          // The wrapper printed the output's head and removed its directory.
          this.#output.push('stdout', status.stdout ?? new Uint8Array());
          this.#output.push('stderr', status.stderr ?? new Uint8Array());
          this.#dirMaybeMade = false;
        }
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
      const alive = await runShell(this.#agent, wrapperAliveText(this.#place, this.#pid as number), {
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
      handle = await this.#agent.openFile(runFile(this.#place, 'exit'), 'r');
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

  /** Reads what both streams hold now; `lenient` skips a file the wrapper has not made yet. */
  async #drainAll(signal: AbortSignal | undefined, lenient: boolean): Promise<void> {
    for (const stream of ['stdout', 'stderr'] as const) {
      let handle = this.#handles[stream];
      if (handle === undefined) {
        const path = runFile(this.#place, stream);
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
      await readToEnd(this.#agent, handle, (chunk) => this.#output.push(stream, chunk), {
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

  /** After a normal end: the rest of the output, then the directory goes (unless the wrapper did both). */
  async #finish(): Promise<void> {
    if (this.#capture !== undefined) return;
    try {
      await this.#drainAll(this.#stop.signal, false);
    } finally {
      await this.#closeHandles();
    }
    this.#dirMaybeMade = false;
    const removed = await runShell(this.#agent, removeText(this.#place), { timeoutMs: CLEANUP_TIMEOUT_MS });
    if (removed !== 0)
      throw new VmkitError('PROVIDER', `could not remove the run directory in the guest (exit ${removed})`, {
        details: { dir: this.#place.dir },
      });
  }

  /** The error to throw for `error`, after the guest processes were stopped and the directory removed. */
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

  /** Reads what output is there, kills the run's processes, removes its directory; never throws. */
  async #cleanUp(): Promise<void> {
    const limit = { timeoutMs: CLEANUP_TIMEOUT_MS };
    try {
      if (this.#timedOut) await this.#drainAll(undefined, true).catch(() => undefined);
      await this.#closeHandles();
      const pid =
        this.#pid ??
        (this.#spawning && !this.#exited ? await this.#spawning.catch(() => undefined) : undefined);
      if (pid !== undefined) {
        await runShell(this.#agent, killText(this.#place, pid, this.#settings.killGraceMs), limit);
        await waitForExit(this.#agent, pid, limit).catch(() => undefined);
      } else if (this.#dirMaybeMade) {
        await runShell(this.#agent, removeText(this.#place), limit);
      }
    } catch {
      // Best effort: the agent went away; the directory is left to the guest's tmp cleaning.
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
