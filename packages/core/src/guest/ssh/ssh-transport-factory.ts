import { createHash } from 'node:crypto';
import type { NodeCredentials } from '../../credentials/node-credentials.js';
import { VmkitError } from '../../errors/vmkit-error.js';
import type { LoginCredentials } from '../../model/login-credentials.js';
import type { Logger } from '../../util/logger.js';
import type { SshTransportFactory } from '../guest-transport.js';
import { requireRunning } from '../require-running.js';
import { sshEndpointOf } from './ssh-endpoint.js';
import { openSshSession, type SshSession } from './ssh-session.js';
import { type LentSession, SshSessionPool } from './ssh-session-pool.js';
import { SshTransport } from './ssh-transport.js';

/** What {@link sshTransportFactory} needs. */
export interface SshTransportFactoryOptions {
  /** The stored logins and pinned host keys. */
  readonly credentials: NodeCredentials;
  /** Where first contacts are logged (the host key's type, never a secret). */
  readonly logger: Logger;
  /** Handshake and login time limit per connection (default 20 s). */
  readonly readyTimeoutMs?: number;
  /** How long a connection no call uses stays open for the next one (default 5 s; 0 closes it at once). */
  readonly idleMs?: number;
}

/** Commands one kept connection carries at once (sshd allows 10 sessions per connection). */
const MAX_USERS = 8;

/**
 * Opens SSH to running nodes: to the host side of their forward of guest port 22 (else their
 * address), logged in with the credentials vmkit stored for them (the group's key pair, or the
 * image's password or key), the node's host key pinned in the credential store on first contact
 * and required to be the same afterwards.
 */
export function sshTransportFactory(options: SshTransportFactoryOptions): SshTransportFactory {
  const { credentials, logger } = options;
  const pool = new SshSessionPool({ idleMs: options.idleMs ?? 5000, maxUsers: MAX_USERS });
  const factory: SshTransportFactory = async (node, { signal }) => {
    requireRunning(node.id, node);
    const login = await credentials.forNode(node);
    if (!login)
      throw new VmkitError(
        'UNSUPPORTED',
        `node ${node.name} has no stored login for SSH: its template named its own key (vmkit keeps no private key for it) or it got no config drive`,
        { details: { node: node.id, field: 'transport' } },
      );
    const endpoint = sshEndpointOf(node);
    const open = () =>
      openSshSession({
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
    const key = `${node.id}\n${endpoint.host}:${endpoint.port}\n${login.user}\n${secretDigest(login)}`;
    const lent = await pool.acquire(key, open);
    return new SshTransport(
      lentSession(pool, lent, () => pool.acquire(key, open)),
      login.user,
      node.name,
    );
  };
  factory.close = () => pool.close();
  return factory;
}

/**
 * The session a transport uses: the lent connection, given back when the transport closes. A kept
 * connection found gone at its first command (the node rebooted, the forward dropped) is thrown
 * away and that command goes over a new one; a failure after that is the command's own.
 */
export function lentSession(
  pool: SshSessionPool,
  first: LentSession,
  again: () => Promise<LentSession>,
): SshSession {
  let lent = first;
  let proven = !first.reused;
  return {
    exec: async (command) => {
      try {
        const channel = await lent.session.exec(command);
        proven = true;
        return channel;
      } catch (error) {
        if (proven) throw error;
        pool.discard(lent);
        lent = await again();
        proven = true;
        return lent.session.exec(command);
      }
    },
    close: () => lent.release(),
    closed: Promise.resolve(),
  };
}

/** A digest of the login's secret: a changed key or password never gets a connection made with the old one. */
function secretDigest(login: LoginCredentials): string {
  return createHash('sha256')
    .update(`${login.privateKey ?? ''}\n${login.password ?? ''}`)
    .digest('hex');
}
