import { closedError } from '../errors/vmkit-error.js';

/** What a {@link Lifecycle} runs: how to open the resource and how to release it. */
export interface LifecycleHooks<T> {
  /**
   * Opens the resource (connects, reads capabilities...). Runs once; when it fails, the next
   * {@link Lifecycle.open} runs it again. `signal` fires when `close()` is called meanwhile: stop
   * early and release what was made.
   */
  open?(signal: AbortSignal): Promise<T>;
  /**
   * Releases the resource. Runs once, on the first `close()`: after a successful open with its
   * value, or with `undefined` when there is no `open` hook. It does not run when an `open` hook
   * exists but never succeeded (a failed open releases what it made itself).
   */
  close?(value: T | undefined): Promise<void>;
}

/** Where a {@link Lifecycle} is. */
export type LifecycleState = 'new' | 'opening' | 'open' | 'closing' | 'closed';

/**
 * The runtime wrapper of a resource (a provider, a client, a blob store), as kysely's
 * `RuntimeDriver` and unstorage's `storage.ts` do it: open once (concurrent callers share one
 * attempt; a failed attempt is forgotten, so the next call tries again), close once (concurrent
 * calls share one; a close during an open aborts the open's signal and waits for it to settle
 * before releasing), and one error for use after close, {@link closedError}.
 */
export class Lifecycle<T = void> {
  readonly #what: string;
  readonly #hooks: LifecycleHooks<T>;
  readonly #abort = new AbortController();
  #opening: Promise<T> | undefined;
  #opened = false;
  #value: T | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;

  /** `what` names the resource in the closed error: `<what> is closed`. */
  constructor(what: string, hooks: LifecycleHooks<T> = {}) {
    this.#what = what;
    this.#hooks = hooks;
  }

  /** Where the resource is now. */
  get state(): LifecycleState {
    if (this.#closed) return 'closed';
    if (this.#closing) return 'closing';
    if (this.#opened) return 'open';
    return this.#opening ? 'opening' : 'new';
  }

  /** True once `close()` was called (even while it is still running). */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Fires when `close()` is called: for work that should stop then. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Throws the {@link closedError} once `close()` was called. */
  assertOpen(): void {
    if (this.#closing) throw closedError(this.#what);
  }

  /**
   * Opens the resource once and gives the value the `open` hook returned. Concurrent callers
   * share one attempt; after a failure the next call tries again. Fails with the closed error
   * once `close()` was called, also for callers waiting on an open that `close()` interrupted.
   */
  async open(): Promise<T> {
    this.assertOpen();
    if (this.#opened) return this.#value as T;
    this.#opening ??= this.#attempt();
    try {
      const value = await this.#opening;
      this.assertOpen();
      return value;
    } catch (error) {
      this.assertOpen();
      throw error;
    }
  }

  /** Closes once; later and concurrent calls share the first one's outcome. */
  close(): Promise<void> {
    this.#closing ??= this.#release().finally(() => {
      this.#closed = true;
    });
    return this.#closing;
  }

  #attempt(): Promise<T> {
    const open = this.#hooks.open;
    const attempt = (async () => (open ? open(this.#abort.signal) : (undefined as T)))();
    attempt.then(
      (value) => {
        this.#value = value;
        this.#opened = true;
      },
      () => {
        if (this.#opening === attempt) this.#opening = undefined;
      },
    );
    return attempt;
  }

  async #release(): Promise<void> {
    this.#abort.abort(closedError(this.#what));
    await this.#opening?.catch(() => {});
    if (this.#hooks.open && !this.#opened) return;
    await this.#hooks.close?.(this.#value);
  }
}
