import type { ProviderNode } from '@vmkit/core/spi';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import type { StoredNodeMetadata } from './node-metadata.js';
import { nodeStatus } from './node-status.js';

/** A node as core sees it, from its domain's state and vmkit's metadata in the domain. */
export async function describeNode(
  ctx: LibvirtContext,
  dom: DomainHandle,
  meta: StoredNodeMetadata,
): Promise<ProviderNode> {
  const { state } = await ctx.client.domains.getState(dom);
  const forwards = meta.network.nics.flatMap((n) => n.portForwards.map((f) => f.hostIp));
  return {
    id: dom.name,
    name: meta.name,
    group: meta.group,
    imageId: meta.imageId,
    status: nodeStatus(state),
    hardware: meta.hardware,
    network: meta.network,
    publicAddresses: [...new Set(forwards)],
    privateAddresses: meta.network.nics.some((n) => n.attachment === 'nat') ? ['10.0.2.15'] : [],
    tags: meta.tags,
    userMetadata: meta.userMetadata,
    linkedClone: meta.linkedClone,
    createdAt: meta.createdAt,
  };
}
