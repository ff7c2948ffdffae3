import type { SimTarget } from './websessions.js';

/** An `IRuntimeErrorEvent`: an error of the running VM (a fatal one pauses it first). */
export class SimRuntimeErrorEvent implements SimTarget {
  readonly iface = 'IRuntimeErrorEvent';
  /** A runtime error event is an `IEvent` too (`IEvent_getType` takes its reference). */
  readonly speaks = ['IEvent'] as const;
  readonly type = 'OnRuntimeError';
  constructor(
    readonly fatal: boolean,
    readonly id: string,
    readonly message: string,
  ) {}
}

/** A passive `IEventListener`: the events fired since it was registered wait in its queue. */
export class SimEventListener implements SimTarget {
  readonly iface = 'IEventListener';
  source: SimEventSource | undefined;
  interesting = new Set<string>();
  readonly queue: SimRuntimeErrorEvent[] = [];
  #wake: (() => void) | undefined;

  /** Queues an event and wakes a waiting `getEvent`. */
  push(event: SimRuntimeErrorEvent): void {
    this.queue.push(event);
    this.#wake?.();
  }

  /** Its source went away: a waiting `getEvent` returns what is queued (or nothing). */
  detach(): void {
    this.source = undefined;
    this.#wake?.();
  }

  /** The next event, waiting up to `timeoutMs` (negative: until one comes) for one. */
  async next(timeoutMs: number): Promise<SimRuntimeErrorEvent | undefined> {
    if (this.queue.length === 0 && timeoutMs !== 0)
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve();
        };
        const timer = timeoutMs > 0 ? setTimeout(done, timeoutMs) : undefined;
        this.#wake = done;
      });
    return this.queue.shift();
  }
}

/**
 * The `IEventSource` of a running VM's console: it lives as long as the VM process; passive
 * listeners registered on it get the events fired after their registration.
 */
export class SimEventSource implements SimTarget {
  readonly iface = 'IEventSource';
  readonly listeners = new Set<SimEventListener>();
  /** Cleared when the VM process ends: the console object is gone. */
  alive = true;

  /** Fires an event to every listener interested in its type (or in `Any`). */
  fire(event: SimRuntimeErrorEvent): void {
    for (const l of this.listeners)
      if (l.interesting.has(event.type) || l.interesting.has('Any')) l.push(event);
  }

  /** The VM process ended: listeners are dropped (a waiting `getEvent` returns nothing). */
  end(): void {
    this.alive = false;
    for (const l of this.listeners) l.detach();
    this.listeners.clear();
  }
}
