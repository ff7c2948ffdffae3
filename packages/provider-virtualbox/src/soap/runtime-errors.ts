import * as vbox from 'virtualbox-soap';
import { refOf, wrap } from './calls.js';

/** A runtime error a running VM reported (VirtualBox's `IRuntimeErrorEvent`). */
export interface RuntimeError {
  /** Its identifier: `DrvVD_DISKFULL` when a disk write found the host disk full. */
  readonly id: string;
  /** Fatal errors pause the VM before they are reported. */
  readonly fatal: boolean;
  readonly message: string;
}

/** A passive listener for the runtime errors of one running VM. */
export interface RuntimeErrorFeed {
  /**
   * The runtime errors reported since the last call, waiting up to `waitMs` for the first
   * (0: none); a feed whose console went away (the VM process ended) returns none.
   */
  next(waitMs: number): Promise<RuntimeError[]>;
  /** Unregisters the listener (a gone console is fine). */
  close(): Promise<void>;
}

/**
 * Registers a passive listener for `OnRuntimeError` on the console's event source of a session
 * locked to a running machine (the web service has no active listeners). VirtualBox fires the
 * event once, after pausing the VM for a fatal error: only a listener registered before then
 * hears it.
 */
export async function listenRuntimeErrors(session: vbox.ISession): Promise<RuntimeErrorFeed> {
  const source = await (await session.getConsole()).getEventSource();
  const listener = await source.createListener();
  await source.registerListener(listener, ['OnRuntimeError' as vbox.VBoxEventType], false);
  let gone = false;
  return {
    async next(waitMs) {
      const out: RuntimeError[] = [];
      let wait = waitMs;
      while (!gone) {
        let event: vbox.IEvent | null;
        try {
          event = await source.getEvent(listener, wait);
        } catch {
          gone = true;
          break;
        }
        if (!event) break;
        wait = 0;
        // The event is an IRuntimeErrorEvent (the only type listened for): the same reference.
        const e = wrap(vbox.IRuntimeErrorEvent, event, refOf(event));
        out.push({ id: await e.getId(), fatal: Boolean(await e.getFatal()), message: await e.getMessage() });
        await source.eventProcessed(listener, event).catch(() => {});
      }
      return out;
    },
    async close() {
      if (!gone) await source.unregisterListener(listener).catch(() => {});
      gone = true;
    },
  };
}
