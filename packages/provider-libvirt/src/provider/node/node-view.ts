import { type ProviderNode, recordedNode, splitNicAddresses } from '@vmkit/core/spi';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { readNicAddresses } from './node-addresses.js';
import type { LibvirtNodeRecord } from './node-metadata.js';
import { nodeStatus } from './node-status.js';

/**
 * A node as core sees it, from its domain's state, vmkit's metadata in the domain and the
 * addresses its NICs really have now (see {@link readNicAddresses}; none assumed), split into
 * private and public ones.
 */
export async function describeNode(
  ctx: LibvirtContext,
  dom: DomainHandle,
  meta: LibvirtNodeRecord,
): Promise<ProviderNode> {
  const { state } = await ctx.client.domains.getState(dom);
  const status = nodeStatus(state);
  const nicAddresses = await readNicAddresses(ctx, dom, meta.network, status === 'running');
  const { privateAddresses, publicAddresses } = splitNicAddresses(nicAddresses);
  const node = recordedNode(dom.name, meta, status, privateAddresses);
  // The guest's public addresses join those of its port forwards.
  return {
    ...node,
    publicAddresses: [...new Set([...node.publicAddresses, ...publicAddresses])],
    nicAddresses,
  };
}
