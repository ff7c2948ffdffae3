import type { NodeStatus } from '@vmkit/core/spi';
import { sleep } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import { waitProgress } from '../../soap/calls.js';
import type { VboxApi, VboxConnection } from '../../soap/connection.js';
import { hasResult, VBOX_RESULT } from '../../soap/errors.js';
import { withMachineLock } from '../../soap/machine-lock.js';

/** States in which a machine has a VM process. */
export const ACTIVE_STATES: ReadonlySet<string> = new Set([
  'Running',
  'Paused',
  'Stuck',
  'Starting',
  'Stopping',
  'Saving',
  'Restoring',
  'TeleportingPausedVM',
  'TeleportingIn',
  'LiveSnapshotting',
  'OnlineSnapshotting',
]);

/** A node's status from its machine state. */
export function nodeStatus(state: string): NodeStatus {
  if (state === 'Running') return 'running';
  if (state === 'PoweredOff') return 'stopped';
  if (state === 'Paused' || state === 'Saved' || state === 'AbortedSaved') return 'suspended';
  if (state === 'Aborted' || state === 'Stuck') return 'error';
  if (ACTIVE_STATES.has(state) || state === 'Starting') return 'pending';
  return 'unknown';
}

/** What powering off needs. */
export interface PowerOffOptions {
  /** Press the ACPI power button first and wait up to this long (0: power down at once). */
  readonly graceMs: number;
  readonly pollMs: number;
  readonly retries: number;
  readonly signal?: AbortSignal;
}

/**
 * Polls until the machine leaves the active states or the deadline passes; returns the last
 * state. The pauses start at `pollMs` and double up to eight times that (a guest shutting down
 * takes a while: fewer round trips, at most `8 × pollMs` late), never past the deadline.
 */
export async function waitInactive(
  machine: vbox.IMachine,
  ms: number,
  pollMs: number,
  signal?: AbortSignal,
): Promise<string> {
  const deadline = Date.now() + ms;
  let pause = pollMs;
  let state: string;
  do {
    await sleep(Math.max(1, Math.min(pause, deadline - Date.now())), signal);
    pause = Math.min(pause * 2, pollMs * 8);
    state = String(await machine.getState());
  } while (ACTIVE_STATES.has(state) && Date.now() < deadline);
  return state;
}

/**
 * Powers a machine off: the ACPI power button, then (after the grace period) a hard power-down.
 * A machine that is not running is left alone.
 */
export async function powerOff(
  conn: VboxConnection,
  api: VboxApi,
  machine: vbox.IMachine,
  options: PowerOffOptions,
): Promise<void> {
  const state = String(await machine.getState());
  if (!ACTIVE_STATES.has(state)) return;
  await withMachineLock(
    conn,
    api,
    machine,
    async (_mutable, session) => {
      const console = await session.getConsole();
      if (state === 'Running' && options.graceMs > 0) {
        try {
          await console.powerButton();
          const after = await waitInactive(machine, options.graceMs, options.pollMs, options.signal);
          if (!ACTIVE_STATES.has(after)) return;
        } catch (error) {
          if (!hasResult(error, VBOX_RESULT.INVALID_VM_STATE)) throw error;
        }
      }
      try {
        await waitProgress(await console.powerDown(), 'powering off');
      } catch (error) {
        if (!hasResult(error, VBOX_RESULT.INVALID_VM_STATE)) throw error;
      }
    },
    {
      lockType: 'Shared',
      save: false,
      mutable: false,
      retries: options.retries,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
}
