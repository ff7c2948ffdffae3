import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtClient } from '../../client/libvirt-client.js';
import { wasInterrupted } from '../../client/retry-safety.js';

/**
 * Starts a domain (`DOMAIN_CREATE_WITH_FLAGS`). When the connection is lost before the answer,
 * the start may or may not have happened: it looks on the next connection whether the domain
 * runs, and starts it again if not (a few times, while the connection keeps being lost).
 */
export async function startDomain(client: LibvirtClient, dom: DomainHandle): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.domains.create(dom);
      return;
    } catch (error) {
      if (!wasInterrupted(error) || attempt >= 3) throw error;
      if (await client.domains.isActive(dom)) return;
    }
  }
}
