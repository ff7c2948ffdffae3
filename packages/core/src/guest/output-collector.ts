import { VmkitError } from '../errors/vmkit-error.js';
import type { RunScriptOptions, ScriptResult } from '../model/guest-exec.js';

/** Output kept per stream when `maxOutputBytes` is not given: 1 MiB. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * The first `maxBytes` bytes of one output stream; the rest is counted, not kept, so memory stays
 * bounded however much a script prints.
 */
export class OutputCollector {
  readonly #maxBytes: number;
  readonly #chunks: Uint8Array[] = [];
  #kept = 0;
  #total = 0;

  constructor(maxBytes: number = DEFAULT_MAX_OUTPUT_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Takes a chunk: keeps what fits (copied), counts the rest. */
  push(chunk: Uint8Array): void {
    this.#total += chunk.byteLength;
    const room = this.#maxBytes - this.#kept;
    if (room <= 0 || chunk.byteLength === 0) return;
    const part = chunk.byteLength <= room ? chunk : chunk.subarray(0, room);
    this.#chunks.push(Uint8Array.from(part));
    this.#kept += part.byteLength;
  }

  /** Bytes seen in all. */
  get totalBytes(): number {
    return this.#total;
  }

  /** Whether some bytes were not kept. */
  get truncated(): boolean {
    return this.#total > this.#kept;
  }

  /** The kept bytes as UTF-8 text (a character cut by the bound becomes U+FFFD). */
  text(): string {
    return Buffer.concat(this.#chunks, this.#kept).toString('utf8');
  }
}

/** The partial output of a script that was stopped, as `TIMEOUT` / `ABORTED` errors carry it in `details`. */
export interface PartialScriptOutput {
  /** Standard output seen so far (bounded). */
  readonly stdout: string;
  /** Standard error seen so far (bounded). */
  readonly stderr: string;
  /** Whether some output was not kept. */
  readonly truncated: boolean;
}

/**
 * Both output streams of one script run: hands every chunk to `onOutput` (a throwing listener is
 * ignored) and keeps at most `maxOutputBytes` per stream. Transports feed it and build their
 * {@link ScriptResult} or their `TIMEOUT` / `ABORTED` error from it.
 */
export class ScriptOutput {
  readonly #stdout: OutputCollector;
  readonly #stderr: OutputCollector;
  readonly #onOutput: RunScriptOptions['onOutput'];

  constructor(options: Pick<RunScriptOptions, 'maxOutputBytes' | 'onOutput'> = {}) {
    const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    this.#stdout = new OutputCollector(max);
    this.#stderr = new OutputCollector(max);
    this.#onOutput = options.onOutput;
  }

  /**
   * Takes a chunk of `stream`; when the listener returned a promise, a promise that settles with
   * it (never rejecting), which the transport waits for before it reads more.
   */
  push(stream: 'stdout' | 'stderr', chunk: Uint8Array): Promise<void> | undefined {
    if (chunk.byteLength === 0) return undefined;
    (stream === 'stdout' ? this.#stdout : this.#stderr).push(chunk);
    if (!this.#onOutput) return undefined;
    try {
      const pending = this.#onOutput(stream, chunk);
      // onOutput must not throw; a faulty listener must not break the run it observes.
      return isThenable(pending) ? Promise.resolve(pending).then(noop, noop) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Bytes seen on `stream` so far. */
  bytes(stream: 'stdout' | 'stderr'): number {
    return (stream === 'stdout' ? this.#stdout : this.#stderr).totalBytes;
  }

  /** The kept output so far. */
  partial(): PartialScriptOutput {
    return {
      stdout: this.#stdout.text(),
      stderr: this.#stderr.text(),
      truncated: this.#stdout.truncated || this.#stderr.truncated,
    };
  }

  /** The result of a script that ended with `exitCode`. */
  result(exitCode: number, durationMs: number, transport: 'agent' | 'ssh'): ScriptResult {
    return { exitCode, ...this.partial(), durationMs, transport };
  }

  /**
   * The error of a script stopped by its timeout (`TIMEOUT`) or its signal (`ABORTED`), killed in
   * the guest, carrying the partial output and `transport` in `details`.
   */
  stoppedError(
    code: 'TIMEOUT' | 'ABORTED',
    transport: 'agent' | 'ssh',
    facts: { readonly timeoutMs?: number; readonly cause?: unknown } = {},
  ): VmkitError {
    const why = code === 'TIMEOUT' ? `timed out after ${facts.timeoutMs} ms` : 'aborted';
    return new VmkitError(code, `script ${why}; killed in the guest`, {
      details: {
        ...this.partial(),
        transport,
        ...(facts.timeoutMs === undefined ? {} : { timeoutMs: facts.timeoutMs }),
      },
      ...(facts.cause === undefined ? {} : { cause: facts.cause }),
    });
  }
}

function noop(): void {}

/** Whether `value` is a promise or promise-like (has a `then` method). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
