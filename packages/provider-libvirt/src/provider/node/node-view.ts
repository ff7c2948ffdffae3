import { type ProviderNode, recordedNode } from '@vmkit/core/spi';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { privateAddressesOf, readNicAddresses } from './node-addresses.js';
import type { LibvirtNodeRecord } from './node-metadata.js';
import { nodeStatus } from './node-status.js';

/**
 * A node as core sees it, from its domain's state, vmkit's metadata in the domain and the
 * addresses its NICs really have now (see {@link readNicAddresses}; none assumed).
 */
export async function describeNode(
  ctx: LibvirtContext,
  dom: DomainHandle,
  meta: LibvirtNodeRecord,
): Promise<ProviderNode> {
  const { state } = await ctx.client.domains.getState(dom);
  const status = nodeStatus(state);
  const nicAddresses = await readNicAddresses(ctx, dom, meta.network, status === 'running');
  return { ...recordedNode(dom.name, meta, status, privateAddressesOf(nicAddresses)), nicAddresses };
}
