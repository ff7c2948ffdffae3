import type { NodeMetadata } from '@vmkit/core';
import { type SshEndpoint, sshEndpointOf, VmkitError } from '@vmkit/core/spi';

/**
 * Where to reach a node's SSH server (core's {@link sshEndpointOf}: its forward of guest port 22,
 * else an address on a NIC the host reaches). Neither is `UNSUPPORTED` (exit 8) saying how to get one.
 */
export function sshEndpoint(node: NodeMetadata): SshEndpoint {
  try {
    return sshEndpointOf(node);
  } catch (error) {
    if (!VmkitError.is(error, 'UNSUPPORTED')) throw error;
    throw new VmkitError(
      'UNSUPPORTED',
      `NODE: node ${node.name} has no forward of guest port 22 and no known address on a network the host reaches: create it with -p 22 (vmkit up GROUP -n 1 -p 22), or use vmkit exec (the guest agent)`,
      { details: { field: 'NODE', node: node.name }, cause: error },
    );
  }
}
