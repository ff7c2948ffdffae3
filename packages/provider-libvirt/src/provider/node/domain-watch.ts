import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { type DomainExpectation, type DomainStateReason, domainFault } from './domain-fault.js';

/** Poll interval while lifecycle events wake the watch (a fallback for a lost event), in ms. */
const POLL_WITH_EVENTS_MS = 1000;
/** Poll interval when lifecycle events could not be registered, in ms. */
const POLL_WITHOUT_EVENTS_MS = 250;

/** Options of {@link watchDomain}. */
export interface DomainWatchOptions {
  /** The domain in messages (`installer vmkit-install-x`). */
  readonly label: string;
  /** What the domain should do meanwhile (see {@link domainFault}). */
  readonly expect: DomainExpectation;
  /** Wakes the watch when it fires (`turn` then sees it and throws). */
  readonly signal?: AbortSignal;
  /** The watch ends with `'done'` once this holds of the state (checked after the faults). */
  readonly done: (state: DomainStateReason) => boolean;
  /** When the watch ends with `'deadline'` (ms since the epoch; default never). */
  readonly deadline?: number;
  /** Runs on every turn before the state is read; throws to end the watch (abort, timeout). */
  readonly turn?: () => void;
}

/**
 * Watches a domain until `done` holds or the deadline passes, and throws the domain's fault
 * ({@link domainFault}: paused on an I/O error, crashed, stopped unexpectedly) as soon as it
 * shows. The domain's lifecycle events wake the watch at once; its state is also polled (every
 * second, or every 250 ms where events cannot be registered), so nothing depends on an event.
 */
export async function watchDomain(
  ctx: LibvirtContext,
  dom: DomainHandle,
  options: DomainWatchOptions,
): Promise<'done' | 'deadline'> {
  let pending = false;
  let wake: (() => void) | undefined;
  const stop = await ctx.client
    .onDomainLifecycle((e) => {
      if (e.domain.name !== dom.name) return;
      pending = true;
      wake?.();
    })
    .catch(() => undefined);
  const pollMs = stop ? POLL_WITH_EVENTS_MS : POLL_WITHOUT_EVENTS_MS;
  try {
    for (;;) {
      options.turn?.();
      pending = false;
      const state = await ctx.client.domains.getState(dom);
      const fault = await domainFault(ctx, dom, options.label, state, options.expect);
      if (fault) throw fault;
      if (options.done(state)) return 'done';
      const left = (options.deadline ?? Number.POSITIVE_INFINITY) - Date.now();
      if (left <= 0) return 'deadline';
      if (!pending) await nap(Math.min(pollMs, left), options.signal, (w) => (wake = w));
      wake = undefined;
    }
  } finally {
    await stop?.().catch(() => {});
  }
}

/** Sleeps `ms`, or less when the signal fires or the function handed to `setWake` is called. */
function nap(
  ms: number,
  signal: AbortSignal | undefined,
  setWake: (wake: () => void) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    setWake(done);
  });
}
