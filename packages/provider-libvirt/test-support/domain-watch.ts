import { DomainEventType } from '../src/client/domain-events.js';
import { LibvirtClient } from '../src/client/libvirt-client.js';

/** Lifecycle events of the domains whose names start with a prefix, heard from libvirt itself. */
export interface DomainWatch {
  /**
   * Resolves with the name of the first matching domain libvirt reported started (heard since the
   * watch began); rejects after `timeoutMs` without one, naming the prefix.
   */
  started(timeoutMs?: number): Promise<string>;
  /** Stops listening and closes the watch's connection. */
  close(): Promise<void>;
}

/**
 * Listens to libvirt's domain lifecycle events on a connection of its own: start the watch before
 * the action whose domain it waits for, so the event cannot be missed. Tests trigger kills and
 * aborts on the state this observes, never on a sleep.
 */
export async function watchDomains(uri: string, prefix: string): Promise<DomainWatch> {
  const client = await LibvirtClient.connect(uri);
  const started: string[] = [];
  const waiters: Array<(name: string) => void> = [];
  const stop = await client.onDomainLifecycle((e) => {
    if (e.event !== DomainEventType.STARTED || !e.domain.name.startsWith(prefix)) return;
    started.push(e.domain.name);
    for (const w of waiters.splice(0)) w(e.domain.name);
  });
  return {
    started(timeoutMs = 120_000) {
      if (started[0] !== undefined) return Promise.resolve(started[0]);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no domain named ${prefix}… started within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push((name) => {
          clearTimeout(timer);
          resolve(name);
        });
      });
    },
    async close() {
      await stop();
      await client.close();
    },
  };
}
