import { retryRetryable } from '@vmkit/core/spi';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtClient } from '../../client/libvirt-client.js';
import { wasInterrupted } from '../../client/retry-safety.js';

/**
 * Starts a domain (`DOMAIN_CREATE_WITH_FLAGS`). When the connection is lost before the answer,
 * the start may or may not have happened: it looks on the next connection whether the domain
 * runs, and starts it again if not (a few times, while the connection keeps being lost).
 */
export async function startDomain(client: LibvirtClient, dom: DomainHandle): Promise<void> {
  let running = false;
  await retryRetryable(
    async () => {
      if (!running) await client.domains.create(dom);
    },
    {
      attempts: 3,
      baseDelayMs: 0,
      retryIf: wasInterrupted,
      onRetry: async () => {
        running = await client.domains.isActive(dom);
      },
    },
  );
}
