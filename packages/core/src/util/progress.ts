/** What a progress event is about. */
export type ProgressPhase =
  | 'build'
  | 'clone'
  | 'start'
  | 'destroy'
  | 'load'
  | 'transfer'
  | 'exec'
  | 'copy'
  | 'wait'
  | 'snapshot'
  | 'image';

/** One progress report of long work. */
export interface ProgressEvent {
  /** The kind of work. */
  readonly phase: ProgressPhase;
  /** The image concerned, if any. */
  readonly imageId?: string;
  /** The node concerned, if any. */
  readonly node?: string;
  /** The named step running (e.g. `create-and-install`). */
  readonly step?: string;
  /** 1-based index of the step, with {@link ProgressEvent.stepCount}. */
  readonly stepIndex?: number;
  /** Number of steps. */
  readonly stepCount?: number;
  /** Completion of this phase for this subject, 0 to 1, when known. */
  readonly fraction?: number;
  /** A short human-readable line. */
  readonly message: string;
  /** On a build step's last event: whether it did its work or had nothing to do. */
  readonly stepOutcome?: 'done' | 'skipped';
}

/** Receives progress events. Must not throw; exceptions are caught and logged. */
export type ProgressListener = (event: ProgressEvent) => void;

/** Options of long-running calls. */
export interface OperationOptions {
  /** Stops the work; whatever it had made is rolled back. */
  readonly signal?: AbortSignal;
  /** Progress events. */
  readonly onProgress?: ProgressListener;
}

/** Calls `listener` safely: a throwing listener never breaks the work it observes. */
export function emitProgress(listener: ProgressListener | undefined, event: ProgressEvent): void {
  if (!listener) return;
  try {
    listener(event);
  } catch {
    // A faulty listener must not fail a build or clone.
  }
}

/** Fans one event out to several listeners. */
export function combineListeners(
  ...listeners: Array<ProgressListener | undefined>
): ProgressListener | undefined {
  const active = listeners.filter((l): l is ProgressListener => l !== undefined);
  if (active.length === 0) return undefined;
  if (active.length === 1) return active[0];
  return (event) => {
    for (const listener of active) emitProgress(listener, event);
  };
}
