import { type ChildProcess, spawn } from 'node:child_process';
import { ChangeSignal } from './change-signal.js';
import { GUEST_PATH, inGuestNamespace } from './guest-shell.js';
import type { SimTarget } from './websessions.js';

/** Output VBoxService keeps per stream before the process waits for the host to read (backpressure). */
const STREAM_BUFFER = 1024 * 1024;

/** `ProcessStatus` values of the WSDL a simulated process goes through. */
export type SimProcessStatus =
  | 'Starting'
  | 'Started'
  | 'TerminatedNormally'
  | 'TerminatedSignal'
  | 'TimedOutKilled'
  | 'Down'
  | 'Error';

const SIGNALS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** One output stream kept for `IProcess.read` (requested with `WaitForStdOut` / `WaitForStdErr`). */
class OutputBuffer {
  chunks: Buffer[] = [];
  size = 0;
  ended = false;

  take(max: number): Buffer {
    const all = Buffer.concat(this.chunks);
    const out = all.subarray(0, max);
    const rest = all.subarray(out.length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    return out;
  }
}

/** What a guest process is started with. */
export interface SimProcessSpec {
  /** The guest's root folder on the host. */
  readonly root: string;
  /** Absolute guest path of the program. */
  readonly executable: string;
  /** Its arguments after argv[0]. */
  readonly args: readonly string[];
  /** The environment it gets. */
  readonly env: Readonly<Record<string, string>>;
  /** Keep stdout for `IProcess.read` (`WaitForStdOut`). */
  readonly stdout: boolean;
  /** Keep stderr for `IProcess.read` (`WaitForStdErr`). */
  readonly stderr: boolean;
  /** Kill it after this many ms (0: never). */
  readonly timeoutMs: number;
  /** argv as given to `processCreate` (argv[0] first). */
  readonly argv: readonly string[];
}

/**
 * A process Guest Control started in a simulated guest (IGuestProcess): the program really runs,
 * with the host's `/bin/sh` and busybox, in the guest's root (`unshare --mount --map-root-user`,
 * then `chroot`), so exit codes, signals, output and input are real.
 */
export class SimGuestProcess implements SimTarget {
  readonly iface = 'IGuestProcess';
  readonly speaks = ['IProcess'];
  status: SimProcessStatus = 'Starting';
  exitCode = -1;
  pid = 0;
  readonly out = new OutputBuffer();
  readonly err = new OutputBuffer();
  #child: ChildProcess | undefined;
  #exited = false;
  #timedOut = false;
  #terminated: 'signal' | 'down' | undefined;
  #stdinOpen = true;
  readonly #change = new ChangeSignal();

  constructor(readonly spec: SimProcessSpec) {
    const child = spawn(
      'unshare',
      inGuestNamespace('r=$1; shift; exec chroot "$r" "$@"', spec.root, [spec.executable, ...spec.args]),
      {
        cwd: spec.root,
        detached: true,
        env: { PATH: GUEST_PATH, ...spec.env },
        stdio: ['pipe', spec.stdout ? 'pipe' : 'ignore', spec.stderr ? 'pipe' : 'ignore'],
      },
    );
    this.#child = child;
    child.stdin?.on('error', () => {
      this.#stdinOpen = false;
    });
    this.#collect(child.stdout, this.out);
    this.#collect(child.stderr, this.err);
    child.once('spawn', () => {
      this.pid = child.pid ?? 0;
      if (this.status === 'Starting') this.status = 'Started';
      this.#changed();
    });
    child.once('error', () => {
      this.status = 'Error';
      this.#exited = true;
      this.#changed();
    });
    child.once('exit', (code, signal) => {
      this.#exited = true;
      this.#stdinOpen = false;
      if (this.#timedOut) this.status = 'TimedOutKilled';
      else if (this.#terminated === 'down') this.status = 'Down';
      else if (signal) {
        this.status = 'TerminatedSignal';
        this.exitCode = SIGNALS[signal] ?? 9;
      } else {
        this.status = 'TerminatedNormally';
        this.exitCode = code ?? 0;
      }
      this.#changed();
    });
    if (spec.timeoutMs > 0)
      setTimeout(() => {
        if (this.#exited) return;
        this.#timedOut = true;
        this.#kill();
      }, spec.timeoutMs).unref();
  }

  #collect(stream: NodeJS.ReadableStream | null | undefined, buffer: OutputBuffer): void {
    if (!stream) {
      buffer.ended = true;
      return;
    }
    stream.on('data', (chunk: Buffer) => {
      buffer.chunks.push(chunk);
      buffer.size += chunk.length;
      if (buffer.size >= STREAM_BUFFER) stream.pause();
      this.#changed();
    });
    stream.on('end', () => {
      buffer.ended = true;
      this.#changed();
    });
  }

  /**
   * The status the API reports: a process whose kept output is not all read yet stays `Started`
   * (as VBoxService does with `WaitForStdOut` / `WaitForStdErr`).
   */
  get reportedStatus(): SimProcessStatus {
    if (!this.#exited) return this.status;
    const drained = (b: OutputBuffer) => b.ended && b.size === 0;
    if (this.status !== 'Error' && this.#terminated !== 'down' && (!drained(this.out) || !drained(this.err)))
      return 'Started';
    return this.status;
  }

  /** Whether the reported status is a final one. */
  get ended(): boolean {
    const s = this.reportedStatus;
    return s !== 'Starting' && s !== 'Started';
  }

  /** Reads up to `max` bytes of kept output of handle 1 or 2, resuming a paused stream. */
  read(handle: 1 | 2, max: number): Buffer {
    const buffer = handle === 1 ? this.out : this.err;
    const data = buffer.take(max);
    const stream = handle === 1 ? this.#child?.stdout : this.#child?.stderr;
    if (stream?.isPaused() && buffer.size < STREAM_BUFFER) stream.resume();
    if (data.length > 0) this.#changed();
    return data;
  }

  /** Whether stdin still takes input. */
  get stdinOpen(): boolean {
    return this.#stdinOpen && !this.#exited;
  }

  /** Writes to stdin; `eof` closes it. Returns the bytes taken. */
  write(data: Buffer, eof: boolean): number {
    const stdin = this.#child?.stdin;
    if (!stdin || !this.stdinOpen) return 0;
    if (data.length > 0) stdin.write(data);
    if (eof) {
      stdin.end();
      this.#stdinOpen = false;
    }
    return data.length;
  }

  /** Kills the process (`IProcess.terminate`): it ends `TerminatedSignal`. */
  terminate(): void {
    if (this.#exited) return;
    this.#terminated = 'signal';
    this.#kill();
  }

  /** The guest session or the guest went away: the process is killed and ends `Down`. */
  down(): void {
    this.#terminated = 'down';
    this.out.chunks = [];
    this.out.size = 0;
    this.err.chunks = [];
    this.err.size = 0;
    if (this.#exited) {
      this.status = 'Down';
      this.#changed();
      return;
    }
    this.#kill();
  }

  #kill(): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  /** Resolves on the next change (status, output, input), or after `ms` (0: no limit). */
  changed(ms: number): Promise<void> {
    return this.#change.next(ms);
  }

  #changed(): void {
    this.#change.notify();
  }
}
