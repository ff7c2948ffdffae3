import { type ProviderNode, recordedNode } from '@vmkit/core/spi';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import type { LibvirtNodeRecord } from './node-metadata.js';
import { nodeStatus } from './node-status.js';

/** A node as core sees it, from its domain's state and vmkit's metadata in the domain. */
export async function describeNode(
  ctx: LibvirtContext,
  dom: DomainHandle,
  meta: LibvirtNodeRecord,
): Promise<ProviderNode> {
  const { state } = await ctx.client.domains.getState(dom);
  const nat = meta.network.nics.some((n) => n.attachment === 'nat');
  return recordedNode(dom.name, meta, nodeStatus(state), nat ? ['10.0.2.15'] : []);
}
