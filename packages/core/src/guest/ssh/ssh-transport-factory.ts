import type { NodeCredentials } from '../../credentials/node-credentials.js';
import { VmkitError } from '../../errors/vmkit-error.js';
import type { Logger } from '../../util/logger.js';
import type { SshTransportFactory } from '../guest-transport.js';
import { sshEndpointOf } from './ssh-endpoint.js';
import { openSshSession } from './ssh-session.js';
import { SshTransport } from './ssh-transport.js';

/** What {@link sshTransportFactory} needs. */
export interface SshTransportFactoryOptions {
  /** The stored logins and pinned host keys. */
  readonly credentials: NodeCredentials;
  /** Where first contacts are logged (the host key's type, never a secret). */
  readonly logger: Logger;
  /** Handshake and login time limit per connection (default 20 s). */
  readonly readyTimeoutMs?: number;
}

/**
 * Opens SSH to running nodes: to the host side of their forward of guest port 22 (else their
 * address), logged in with the credentials vmkit stored for them (the group's key pair, or the
 * image's password or key), the node's host key pinned in the credential store on first contact
 * and required to be the same afterwards.
 */
export function sshTransportFactory(options: SshTransportFactoryOptions): SshTransportFactory {
  const { credentials, logger } = options;
  return async (node, { signal }) => {
    if (node.status !== 'running')
      throw new VmkitError('CONFLICT', `node ${node.name} is ${node.status}, not running`, {
        details: { node: node.id, status: node.status },
      });
    const login = await credentials.forNode(node);
    if (!login)
      throw new VmkitError(
        'UNSUPPORTED',
        `node ${node.name} has no stored login for SSH: its template named its own key (vmkit keeps no private key for it) or it got no config drive`,
        { details: { node: node.id, field: 'transport' } },
      );
    const endpoint = sshEndpointOf(node);
    const session = await openSshSession({
      endpoint,
      login,
      node: node.name,
      signal,
      ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
      hostKeys: {
        pinned: () => credentials.pinnedHostKey(node.id),
        pin: async (hostKey) => {
          logger.info('pinned the SSH host key of a node on first contact', {
            node: node.name,
            hostKeyType: hostKey.split(' ')[0],
          });
          await credentials.pinHostKey(node.id, hostKey);
        },
      },
    });
    return new SshTransport(session, login.user, node.name);
  };
}
