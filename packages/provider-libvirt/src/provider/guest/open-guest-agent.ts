import type { GuestAgent, GuestAgentAccess } from '@vmkit/core/spi';
import { throwIfAborted, VmkitError } from '@vmkit/core/spi';
import { DomainState } from '../../client/domain-procedures.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { lookupNode } from '../node/node-lookup.js';
import { LibvirtGuestAgent } from './libvirt-guest-agent.js';

/**
 * An agent session for node `id`: `NOT_FOUND` for an unknown node, `CONFLICT` when its domain is
 * not running, `UNSUPPORTED` on a driver that runs no guest (libvirt's test driver). It does not
 * wait for the agent (its calls fail `UNSUPPORTED`, retryable, until `qemu-ga` answers).
 */
export async function openLibvirtGuestAgent(
  ctx: LibvirtContext,
  id: string,
  access: GuestAgentAccess,
): Promise<GuestAgent> {
  throwIfAborted(access.signal, `opening the guest agent of ${id}`);
  const { dom } = await lookupNode(ctx, id);
  if (!ctx.realGuests)
    throw new VmkitError(
      'UNSUPPORTED',
      `libvirt's ${ctx.domainType} driver runs no guest agent (node ${id})`,
      {
        details: { node: id },
      },
    );
  const { state } = await ctx.client.domains.getState(dom);
  if (state !== DomainState.RUNNING)
    throw new VmkitError('CONFLICT', `node ${id} is not running (libvirt state ${state})`, {
      details: { node: id, reason: 'not-running' },
    });
  return new LibvirtGuestAgent(ctx.client.qemu, dom);
}
