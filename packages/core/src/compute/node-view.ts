import type { Image } from '../model/image.js';
import type { LoginCredentials } from '../model/login-credentials.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { ProviderNode } from '../spi/hypervisor-provider.js';
import { hostPortsOf } from './network-binding.js';

/** The caller's view of a node: the provider's record plus host ports and login. */
export function nodeMetadataOf(
  node: ProviderNode,
  image: Image | undefined,
  loginUser?: string,
): NodeMetadata {
  const base = image?.login;
  const login: LoginCredentials | undefined = loginUser ? { ...base, user: loginUser } : base;
  const { master: _master, ...described } = node;
  return Object.freeze({
    ...described,
    hostPorts: Object.freeze(hostPortsOf(node.network)),
    ...(login ? { login } : {}),
  });
}

/** The lease owner key of a node. */
export function leaseOwner(providerId: string, nodeName: string): string {
  return `${providerId}/${nodeName}`;
}
