import { raceAbort, sleep } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import type { VboxApi } from '../../soap/connection.js';
import { withMachineLock } from '../../soap/machine-lock.js';
import { listenRuntimeErrors, type RuntimeError, type RuntimeErrorFeed } from '../../soap/runtime-errors.js';
import type { VboxContext } from '../virtualbox-context.js';
import { type MachineExpectation, machineFault } from './machine-fault.js';

/** How long a pause read before its runtime error was heard waits for it, in ms. */
const PAUSE_EVENT_GRACE_MS = 1000;

/** Options of {@link watchMachine}. */
export interface MachineWatchOptions {
  /** The machine in messages (`installer vmkit-m-x`). */
  readonly label: string;
  /** What the machine should do meanwhile (see {@link machineFault}). */
  readonly expect: MachineExpectation;
  /** The watch ends with `'done'` once this holds of the state (checked after the faults). */
  readonly done: (state: string) => boolean;
  /** When the watch ends with `'deadline'` (ms since the epoch; default never). */
  readonly deadline?: number;
  /** Ends the waits between turns early. */
  readonly signal?: AbortSignal;
  /** Runs on every turn after the state is read and found sound; throws to end the watch (abort, timeout). */
  readonly turn?: (state: string) => void;
}

/**
 * Watches a launched machine until `done` holds or the deadline passes, and throws the
 * machine's fault ({@link machineFault}: paused on a full disk or another runtime error, stuck,
 * aborted, stopped) as soon as it shows. Under a shared lock, a passive listener on the console's
 * event source hears the VM's runtime errors (the cause of a pause) and wakes the watch; the state
 * is polled every `pollIntervalMs` as well. A machine that cannot be locked (its VM process is
 * gone already) is watched by its state alone.
 */
export async function watchMachine(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine,
  options: MachineWatchOptions,
): Promise<'done' | 'deadline'> {
  let watching = false;
  try {
    return await withMachineLock(
      ctx.conn,
      api,
      machine,
      async (_m, session) => {
        watching = true;
        const feed = await listenRuntimeErrors(session).catch(() => undefined);
        try {
          return await turns(ctx, machine, options, feed);
        } finally {
          await feed?.close();
        }
      },
      { lockType: 'Shared', mutable: false, save: false, retries: 0 },
    );
  } catch (error) {
    if (watching) throw error;
    return turns(ctx, machine, options, undefined);
  }
}

async function turns(
  ctx: VboxContext,
  machine: vbox.IMachine,
  options: MachineWatchOptions,
  feed: RuntimeErrorFeed | undefined,
): Promise<'done' | 'deadline'> {
  const errors: RuntimeError[] = [];
  const pollMs = ctx.options.pollIntervalMs;
  for (;;) {
    if (feed) errors.push(...(await feed.next(0)));
    const state = String(await machine.getState());
    // VirtualBox pauses the VM first and fires the runtime error after: a pause read before its
    // event arrived waits a moment for it.
    if (state === 'Paused' && feed && !errors.some((e) => e.fatal))
      errors.push(...(await feed.next(PAUSE_EVENT_GRACE_MS)));
    const fault = await machineFault(ctx, options.label, state, options.expect, errors);
    if (fault) throw fault;
    if (options.done(state)) return 'done';
    options.turn?.(state);
    const left = (options.deadline ?? Number.POSITIVE_INFINITY) - Date.now();
    if (left <= 0) return 'deadline';
    const wait = Math.max(1, Math.min(pollMs, left));
    if (feed) errors.push(...(await raceAbort(feed.next(wait), options.signal, options.label)));
    else await sleep(wait, options.signal);
  }
}
