import { retryRetryable, throwIfAborted } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import type { VboxApi, VboxConnection } from './connection.js';
import { hasResult, VBOX_RESULT } from './errors.js';

/** How {@link withMachineLock} locks. */
export interface LockOptions {
  /** `Write` to change settings (default), `Shared` to control a running machine. */
  readonly lockType?: 'Write' | 'Shared';
  /** Fetch the session's mutable machine for `change` (default true; console work needs none). */
  readonly mutable?: boolean;
  /** Save the settings after `change` (default true for `Write`). */
  readonly save?: boolean;
  /** Extra attempts while another session holds the machine. */
  readonly retries: number;
  /** Stops retrying and changing; the lock is still released. */
  readonly signal?: AbortSignal;
}

/**
 * The one way vmkit changes a machine: lock it with a pooled session, get the session's mutable
 * machine, run `change`, save the settings, and always unlock (also on errors and aborts). A
 * machine another session holds is retried a bounded number of times with growing pauses.
 */
export async function withMachineLock<T>(
  conn: VboxConnection,
  api: VboxApi,
  machine: vbox.IMachine,
  /** Gets the session's mutable machine (the machine itself when `mutable` is false) and the session. */
  change: (mutable: vbox.IMachine, session: vbox.ISession) => Promise<T>,
  options: LockOptions,
): Promise<T> {
  const lockType = options.lockType ?? 'Write';
  const session = await conn.borrowSession(api);
  const busy = (error: unknown) => hasResult(error, VBOX_RESULT.INVALID_OBJECT_STATE);
  // The machine's own refusal of the last try (if that is how it failed), and the tries made.
  let refused: unknown;
  let tries = 0;
  await retryRetryable(
    async () => {
      throwIfAborted(options.signal, 'locking a machine');
      refused = undefined;
      tries++;
      try {
        await machine.lockMachine(session, lockType as vbox.LockType);
      } catch (error) {
        refused = error;
        throw error;
      }
    },
    {
      attempts: options.retries + 1,
      baseDelayMs: 25,
      maxDelayMs: 1000,
      retryIf: busy,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  ).catch((error: unknown) => {
    // An abort (before a try, in a pause, or while the machine was busy with tries left) keeps
    // the session out of the pool; the machine's refusal returns it.
    if (error !== refused) throw error;
    if (busy(error) && tries <= options.retries) throwIfAborted(options.signal, 'locking a machine');
    conn.returnSession(api, session);
    throw error;
  });
  let healthy = true;
  try {
    const mutable = options.mutable === false ? machine : await session.getMachine();
    const result = await change(mutable, session);
    if (options.mutable !== false && (options.save ?? lockType === 'Write')) await mutable.saveSettings();
    return result;
  } finally {
    try {
      await session.unlockMachine();
    } catch (error) {
      // A shared session is let go by VirtualBox when the machine powers off: nothing to unlock.
      if (!hasResult(error, VBOX_RESULT.INVALID_SESSION_STATE)) healthy = false;
    }
    if (healthy) conn.returnSession(api, session);
  }
}
