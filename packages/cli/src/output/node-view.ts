import type { NodeMetadata } from '@vmkit/core';

/**
 * A node as `--json` prints it: every field, addresses and per-NIC `nicAddresses` included,
 * but never a secret: the login keeps its user and `authenticateSudo`, not `password` or
 * `privateKey` (an image's login can carry them; `vmkit ssh` reads the stored key itself).
 */
export function nodeJson(node: NodeMetadata): NodeMetadata {
  if (node.login === undefined) return node;
  const { user, authenticateSudo } = node.login;
  return { ...node, login: { user, ...(authenticateSudo !== undefined ? { authenticateSudo } : {}) } };
}

/**
 * A node's addresses for `vmkit ls`: the private ones, then the public ones, comma-separated
 * (`10.0.2.15,192.168.122.40`); `-` when none is known yet.
 */
export function formatAddresses(node: Pick<NodeMetadata, 'privateAddresses' | 'publicAddresses'>): string {
  return [...node.privateAddresses, ...node.publicAddresses].join(',') || '-';
}
