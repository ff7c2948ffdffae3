import type { ProgressEvent } from '@vmkit/core';
import type { MultiBar, SingleBar } from 'cli-progress';

/** Where progress goes and how. */
export interface ProgressViewOptions {
  /** The stream (stderr, so stdout keeps only results). */
  readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Bars (a terminal) or plain lines (a pipe, a log file). */
  readonly bars: boolean;
}

/** The subject and label of an event: one bar (or line series) per build step, clone and start. */
function keyOf(e: ProgressEvent): { key: string; label: string } {
  if (e.phase === 'build' && e.step) {
    const n = e.stepIndex && e.stepCount ? ` ${e.stepIndex}/${e.stepCount}` : '';
    return { key: `build:${e.imageId}:${e.step}`, label: `build ${e.imageId ?? ''}${n} ${e.step}` };
  }
  const subject = e.node ?? e.imageId ?? '';
  return { key: `${e.phase}:${subject}`, label: `${e.phase} ${subject}`.trim() };
}

/** Completion of the event's own bar: build events carry the whole build's fraction, bars show the step's. */
function stepFraction(e: ProgressEvent): number {
  let f = e.fraction ?? 0;
  if (e.phase === 'build' && e.stepIndex && e.stepCount) f = f * e.stepCount - (e.stepIndex - 1);
  return Math.max(0, Math.min(1, f));
}

/**
 * Shows progress events: a bar per build step, clone and start on a terminal (cli-progress),
 * or plain lines elsewhere, one when a subject starts, at each quarter and when it completes.
 */
export class ProgressView {
  readonly #options: ProgressViewOptions;
  readonly #bars = new Map<string, SingleBar>();
  readonly #quarters = new Map<string, number>();
  #multi: MultiBar | undefined;

  private constructor(options: ProgressViewOptions, multi: MultiBar | undefined) {
    this.#options = options;
    this.#multi = multi;
  }

  /** Makes a view; loads cli-progress only when bars are wanted. */
  static async create(options: ProgressViewOptions): Promise<ProgressView> {
    if (!options.bars) return new ProgressView(options, undefined);
    // cli-progress is CommonJS: its `module.exports` is the default export, both under Node and in
    // the bundle (whose split chunks export a CommonJS module as `default` only).
    const { MultiBar, Presets } = (await import('cli-progress')).default;
    const multi = new MultiBar(
      {
        stream: options.stream as NodeJS.WriteStream,
        format: '{label} |{bar}| {percentage}% {message}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        forceRedraw: true,
        noTTYOutput: false,
      },
      Presets.shades_classic,
    );
    return new ProgressView(options, multi);
  }

  /** The listener to pass as `onProgress`. */
  readonly listener = (event: ProgressEvent): void => {
    const { key, label } = keyOf(event);
    const fraction = stepFraction(event);
    const message = event.message.length > 60 ? `${event.message.slice(0, 57)}...` : event.message;
    if (this.#multi) {
      let bar = this.#bars.get(key);
      if (!bar) {
        bar = this.#multi.create(100, 0, { label, message });
        this.#bars.set(key, bar);
      }
      bar.update(Math.round(fraction * 100), { label, message });
      return;
    }
    const quarter = Math.floor(fraction * 4);
    const seen = this.#quarters.get(key);
    if (seen !== undefined && quarter <= seen) return;
    this.#quarters.set(key, quarter);
    this.#options.stream.write(`${label}: ${Math.round(fraction * 100)}% ${message}\n`);
  };

  /** Stops drawing (bars stay on screen as they were). */
  stop(): void {
    this.#multi?.stop();
    this.#multi = undefined;
  }
}
