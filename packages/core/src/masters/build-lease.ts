import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type BlobStore, listAll } from '../blobstore/blob-store.js';
import { retryingBlobStore } from '../blobstore/retrying-blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { abortedError, sleep, throwIfAborted } from '../util/abort.js';
import type { Logger } from '../util/logger.js';
import { emitProgress, type OperationOptions } from '../util/progress.js';
import {
  BUILD_LEASE_MAX_POLL_MS,
  buildLeaseKey,
  leaseBlobName,
  leaseGeneration,
  type ResolvedBuildLeaseOptions,
} from './build-lease-options.js';
import { HeldLease } from './held-lease.js';
import {
  describeHolder,
  type LeaseHolder,
  type LeaseRecord,
  leaseExpired,
  MAX_LEASE_BYTES,
  parseLeaseRecord,
} from './lease-record.js';

/** What a build lease is taken for. */
export interface LeaseRequest {
  readonly imageId: string;
  readonly specHash: string;
  /** The master name the build will use (its artefacts carry it). */
  readonly masterName: string;
}

/** The newest generation of one image's lease, as read. */
interface Latest {
  readonly generation: number;
  /** `undefined` when the blob vanished between listing and reading. */
  readonly record: LeaseRecord | undefined;
  readonly names: readonly string[];
}

/**
 * Build leases in a blob store: one build of an image at a time across processes and hosts.
 * Each lease is a folder of generation blobs written create-only (`ifNoneMatch: '*'`), so of
 * several writers of one generation exactly one wins: taking a free lease writes generation 1,
 * renewing or taking over a lapsed one writes the next. A writer that then sees a newer
 * generation than its own backs off. Leases live in their own container, never among records.
 */
export class BuildLeases {
  readonly #raw: BlobStore;
  /** The store, retrying what is retryable (see `retryingBlobStore`). */
  readonly #store: BlobStore;
  readonly #container: string;
  readonly #namespaceOf: () => string;
  #namespace: string;
  readonly #options: ResolvedBuildLeaseOptions;
  readonly #logger: Logger;
  readonly #holder: LeaseHolder;

  constructor(
    store: BlobStore,
    place: {
      readonly container: string;
      /** The leases' folder; a function is read again by `init` (a provider's id settles when it connects). */
      readonly namespace: string | (() => string);
    },
    options: ResolvedBuildLeaseOptions,
    logger: Logger,
  ) {
    this.#raw = store;
    this.#store = retryingBlobStore(store);
    this.#container = place.container;
    const { namespace } = place;
    this.#namespaceOf = typeof namespace === 'function' ? namespace : () => namespace;
    this.#namespace = this.#namespaceOf();
    this.#options = options;
    this.#logger = logger;
    this.#holder = { hostname: hostname(), pid: process.pid, id: randomBytes(8).toString('hex') };
  }

  /** The container of the lease blobs. */
  get container(): string {
    return this.#container;
  }

  /** This process's identity in the leases it takes. */
  get holder(): LeaseHolder {
    return this.#holder;
  }

  /** Settles the namespace and creates the container if missing. */
  async init(): Promise<void> {
    this.#namespace = this.#namespaceOf();
    await this.#store.createContainer(this.#container);
  }

  /**
   * Takes the image's lease, waiting (polling, reporting a `build` progress event naming the
   * holder) while another live process holds it. A lapsed lease is taken over.
   * Honours `signal`: an abort while waiting returns at once and leaves the lease alone.
   */
  async acquire(request: LeaseRequest, options: OperationOptions = {}): Promise<HeldLease> {
    return (await this.acquireUnless(request, undefined, options)) as HeldLease;
  }

  /**
   * {@link acquire}, except that `settled` (when given) is asked before the lease is taken and,
   * while another process holds it, at every poll: when it answers `true` (what the lease guards
   * was done meanwhile, e.g. a master was published), the wait ends without taking the lease and
   * `undefined` is returned.
   *
   * Without `settled`, the first attempt writes generation 1 at once, as if the lease were free:
   * one create-only write takes a free lease; a conflict, or a newer generation seen after the
   * write, means another process holds or held it, and the lease is looked at as below. With
   * `settled` (a fleet racing for one build, where most writes would conflict) the lease is
   * listed first, and `askedNow` says the caller has just asked `settled`: not asked again on
   * that first look.
   *
   * Polls are paced by the time waited so far, so a waiter notices a change within a fixed share
   * of its wait. With `settled`, each poll asks only `settled` (one cheap read, at an eighth of
   * the wait: 200 ms to 1 s), and the lease itself is listed again only every `renewMs` (at most
   * 2 s) or once the holder's record is due to lapse, to notice a holder that gave up or died.
   * Without `settled`, each poll lists the lease (at a quarter of the wait: 50 ms to 2 s, at most
   * `renewMs`). A pause is at least four times as long as the poll before it took, so waiters back
   * off from a store that answers slowly (an overloaded one), leaving it to the holders' renewals. The newest generation is read again only when it changed.
   * Where `settled.changed` can watch what `settled` reads (the filesystem store), a change ends
   * the pause at once, so a waiter notices a publication within milliseconds, not a poll later.
   */
  async acquireUnless(
    request: LeaseRequest,
    settled: Settled | undefined,
    options: OperationOptions = {},
    askedNow = false,
  ): Promise<HeldLease | undefined> {
    const key = buildLeaseKey(this.#namespace, request.imageId);
    const store = retryingBlobStore(this.#raw, { signal: options.signal });
    throwIfAborted(options.signal, 'waiting for a build lease');
    if (!settled) {
      const taken = await this.#tryTake(store, key, request, 0);
      if (taken) return taken;
    }
    let ask = !askedNow;
    const waitStarted = Date.now();
    const { renewMs } = this.#options;
    let known: { name: string; record: LeaseRecord } | undefined;
    let nextLook = 0;
    let reported: string | undefined;
    let woken = false;
    // Armed before the first look and kept until it fires (then armed again before the next look),
    // so no change after a look is missed, and a waiter sets up one watch per change, not per poll.
    let wake: Wake | undefined;
    try {
      for (;;) {
        throwIfAborted(options.signal, 'waiting for a build lease');
        if (settled?.changed && (!wake || wake.settled)) {
          woken ||= wake?.fired === true;
          wake?.disarm();
          wake = armWake(settled.changed, options.signal);
        }
        const now = Date.now();
        const pollStarted = performance.now();
        let askedNow = false;
        if (woken && settled) {
          // Woken by a change: asked first, whatever look is due.
          woken = false;
          askedNow = true;
          if (await settled()) return undefined;
        }
        if (known && settled && now < nextLook && now < Date.parse(known.record.expiresAt)) {
          // The holder is live as last seen: only watch for the work being done.
          if (!askedNow && (await settled())) return undefined;
        } else {
          const latest = await this.#latest(store, key, known);
          if (latest && latest.record === undefined) continue; // vanished while read: look again
          const current = latest?.record;
          if (!current || leaseExpired(current)) {
            if (settled && ask && (await settled())) return undefined;
            ask = true;
            const held = await this.#tryTake(store, key, request, latest?.generation ?? 0, current);
            if (held) return held;
            continue;
          }
          ask = true;
          known = { name: latest.names.at(-1) as string, record: current };
          nextLook = Date.now() + Math.min(renewMs, BUILD_LEASE_MAX_POLL_MS);
          const who = describeHolder(current);
          if (who !== reported) {
            reported = who;
            emitProgress(options.onProgress, {
              phase: 'build',
              imageId: request.imageId,
              message: `waiting for the build lease held by ${who}`,
            });
          }
        }
        const waited = Date.now() - waitStarted;
        // Woken by a change, a waiter asks `settled` only as a fallback (a missed event, a store
        // on a network filesystem that reports no remote change): once a second at most.
        let pause = settled ? watchPause(waited, renewMs) : lookPause(waited, renewMs);
        // A watch that failed (settled without a change) is armed again at the next look.
        const watching = wake !== undefined && !wake.settled;
        if (watching) pause = Math.max(pause, Math.min(WOKEN_POLL_MS, renewMs));
        // A waiter takes at most a fifth of a serial client's share of a store that queues: the
        // pause is at least four times as long as the poll took (nothing on a store answering fast).
        const ms = Math.max(pause, 4 * (performance.now() - pollStarted));
        if (watching) {
          await pauseUnlessWoken(ms, wake as Wake, options.signal);
          woken ||= (wake as Wake).fired;
        } else await sleep(ms, options.signal);
      }
    } finally {
      wake?.disarm();
    }
  }

  /** The leases held now (not lapsed) in this namespace, one per image. */
  async live(): Promise<LeaseRecord[]> {
    const found: LeaseRecord[] = [];
    for (const latest of await this.#everyLatest()) {
      if (latest.record && !leaseExpired(latest.record)) found.push(latest.record);
    }
    return found;
  }

  /** Removes the blobs of lapsed leases (their holders are dead); returns how many went. */
  async removeStale(): Promise<number> {
    let removed = 0;
    for (const latest of await this.#everyLatest()) {
      if (latest.record && !leaseExpired(latest.record)) continue;
      for (const name of latest.names) {
        await this.#store.removeBlob(this.#container, name);
        removed++;
      }
    }
    return removed;
  }

  async #tryTake(
    store: BlobStore,
    key: string,
    request: LeaseRequest,
    after: number,
    lapsed?: LeaseRecord,
  ): Promise<HeldLease | undefined> {
    const started = Date.now();
    const record: LeaseRecord = {
      schemaVersion: 1,
      ...request,
      holder: this.#holder,
      generation: after + 1,
      expiresAt: new Date(started + this.#options.ttlMs).toISOString(),
    };
    const name = leaseBlobName(key, record.generation);
    try {
      await store.putBlob(this.#container, name, JSON.stringify(record), {
        contentType: 'application/json',
        ifNoneMatch: '*',
      });
    } catch (error) {
      if (VmkitError.is(error, 'CONFLICT')) return undefined; // another taker won this generation
      throw error;
    }
    const latencyMs = Date.now() - started;
    // A generation 1 written after a holder renewed past it and removed the old blob loses.
    let names: string[];
    try {
      names = await this.#names(store, key);
    } catch (error) {
      await store.removeBlob(this.#container, name).catch(() => {});
      throw error;
    }
    if (names.some((n) => (leaseGeneration(key, n) ?? 0) > record.generation)) {
      await store.removeBlob(this.#container, name);
      return undefined;
    }
    for (const older of names.filter((n) => (leaseGeneration(key, n) ?? 0) < record.generation)) {
      await store.removeBlob(this.#container, older).catch(() => {});
    }
    if (after > 0) this.#logger.warn('took over a lapsed build lease', { imageId: request.imageId });
    const place = {
      store: this.#store,
      container: this.#container,
      key,
      options: this.#options,
      logger: this.#logger,
    };
    return new HeldLease(
      place,
      record,
      started + this.#options.ttlMs,
      latencyMs,
      after > 0 ? lapsed : undefined,
    );
  }

  async #names(store: BlobStore, key: string): Promise<string[]> {
    const names: string[] = [];
    for await (const item of listAll(store, this.#container, key)) {
      if (leaseGeneration(key, item.name) !== undefined) names.push(item.name);
    }
    return names;
  }

  /**
   * The newest generation. `known` (the newest one read before, while live) is not read again:
   * a generation's name can be written afresh only after its folder emptied, so a lapsed `known`
   * is always read again before anyone acts on its lapse.
   */
  async #latest(
    store: BlobStore,
    key: string,
    known?: { readonly name: string; readonly record: LeaseRecord },
  ): Promise<Latest | undefined> {
    const names = await this.#names(store, key);
    const newest = names.at(-1);
    if (newest === undefined) return undefined;
    const record =
      newest === known?.name && !leaseExpired(known.record) ? known.record : await this.#read(store, newest);
    return { generation: leaseGeneration(key, newest) as number, record, names };
  }

  async #everyLatest(): Promise<Latest[]> {
    const byKey = new Map<string, string[]>();
    for await (const item of listAll(this.#store, this.#container, `${this.#namespace}/`)) {
      const key = item.name.slice(0, item.name.lastIndexOf('/') + 1);
      if (leaseGeneration(key, item.name) === undefined) continue;
      byKey.set(key, [...(byKey.get(key) ?? []), item.name]);
    }
    const all: Latest[] = [];
    for (const [key, names] of byKey) {
      const newest = names.at(-1) as string;
      all.push({
        generation: leaseGeneration(key, newest) as number,
        record: await this.#read(this.#store, newest),
        names,
      });
    }
    return all;
  }

  /** Reads one generation; `undefined` when gone. A corrupt blob reads as a lapsed lease. */
  async #read(store: BlobStore, name: string): Promise<LeaseRecord | undefined> {
    const blob = await store.getBlob(this.#container, name);
    if (!blob) return undefined;
    // A failed read is the store's error, never a lapsed lease: only bad content counts as lapsed.
    const text = blob.size > MAX_LEASE_BYTES ? undefined : await blob.text();
    try {
      if (text === undefined) throw new VmkitError('CORRUPT', `${name}: ${blob.size} bytes is too big`);
      return parseLeaseRecord(name, text);
    } catch (error) {
      this.#logger.warn('a build lease blob is corrupt; it counts as lapsed', {
        blob: name,
        error: String(error),
      });
      return { ...CORRUPT, masterName: name };
    }
  }
}

/**
 * A check of whether the work a lease guards was done meanwhile (see `BuildLeases.acquireUnless`),
 * optionally with a wake-up for when its answer may have changed.
 */
export interface Settled {
  (): Promise<boolean>;
  /** Resolves when the answer may have changed (see `BlobStore.watchBlob`), or when `signal` aborts. */
  readonly changed?: ((signal: AbortSignal) => Promise<void>) | undefined;
}

/** How often a waiter woken by changes (`Settled.changed`) still asks `settled` on its own. */
const WOKEN_POLL_MS = 1000;

/**
 * Why a wake-up's watch was stopped by `disarm`: a reason of its own, so no `AbortError` is made
 * for every wait. A store's `watchBlob` only needs the signal to fire (this package's stores do not
 * read the reason).
 */
const DISARMED = Object.freeze(new Error('the wake-up was disarmed'));

/** A wake-up armed until the next change: see {@link armWake}. */
interface Wake {
  /** Whether the watch ended: on a change, a failure of the watch, `disarm` or the abort. */
  readonly settled: boolean;
  /** Whether it ended on a change. */
  readonly fired: boolean;
  /**
   * Calls `listener` once when the watch ends (at once, on a later tick, if it has); returns the
   * function that forgets it. One listener at a time: each pause sets its own and forgets it,
   * so a watch that outlives many pauses keeps no reaction of theirs.
   */
  onSettled(listener: () => void): () => void;
  /** Releases the watch. */
  disarm(): void;
}

/**
 * Arms a wake-up on `changed`, released by `disarm` or by `signal`. The caller's signal is
 * followed by a listener removed on `disarm` (not `AbortSignal.any`, whose dependants a
 * long-lived signal keeps on older Node versions).
 */
function armWake(changed: (signal: AbortSignal) => Promise<void>, signal: AbortSignal | undefined): Wake {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) stop.abort();
  let settled = false;
  let fired = false;
  let listener: (() => void) | undefined;
  changed(stop.signal)
    .then(
      () => {
        fired = !stop.signal.aborted;
      },
      () => {}, // a failed watch wakes nobody: the waiter's own pace stands, and it arms again
    )
    .finally(() => {
      settled = true;
      const call = listener;
      listener = undefined;
      call?.();
    });
  return {
    get settled() {
      return settled;
    },
    get fired() {
      return fired;
    },
    onSettled(next) {
      if (settled) {
        queueMicrotask(next);
        return () => {};
      }
      listener = next;
      return () => {
        if (listener === next) listener = undefined;
      };
    },
    disarm() {
      signal?.removeEventListener('abort', onAbort);
      stop.abort(DISARMED);
    },
  };
}

/** Sleeps `ms`, ended early when `wake` fires; rejects with `ABORTED` when `signal` fires. */
function pauseUnlessWoken(ms: number, wake: Wake, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal, 'waiting for a build lease'));
      return;
    }
    let forget = () => {};
    const end = (error?: Error) => {
      clearTimeout(timer);
      forget();
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onAbort = () => end(abortedError(signal as AbortSignal, 'waiting for a build lease'));
    const timer = setTimeout(() => end(), ms);
    // Only a change ends the pause: a watch that failed leaves the waiter to its own pace.
    forget = wake.onSettled(() => {
      if (wake.fired) end();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The pause before the next listing of a held lease: a quarter of the wait, 50 ms to 2 s, at most `renewMs`. */
function lookPause(waited: number, renewMs: number): number {
  return Math.max(50, Math.min(waited / 4, BUILD_LEASE_MAX_POLL_MS, renewMs));
}

/** The pause before the next `settled` check: an eighth of the wait, 200 ms to 1 s, at most `renewMs`. */
function watchPause(waited: number, renewMs: number): number {
  return Math.max(200, Math.min(waited / 8, BUILD_LEASE_MAX_POLL_MS / 2, renewMs));
}

/** What a corrupt lease reads as: lapsed long ago, held by nobody. */
const CORRUPT: Omit<LeaseRecord, 'masterName'> = {
  generation: 1,
  schemaVersion: 1,
  imageId: '',
  specHash: '',
  holder: { hostname: '', pid: 0, id: '' },
  expiresAt: new Date(0).toISOString(),
};
