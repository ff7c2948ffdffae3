import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { VmkitError } from '../../errors/vmkit-error.js';
import type { LoginCredentials } from '../../model/login-credentials.js';
import { abortedError } from '../../util/abort.js';
import type { SshEndpoint } from './ssh-endpoint.js';

/** How a node's host key is checked: the key pinned for it, and how a first key is pinned. */
export interface HostKeyPins {
  /** The pinned key (`type base64`), or `undefined` on first contact. */
  pinned(): Promise<string | undefined>;
  /** Pins the key the node showed on first contact. */
  pin(hostKey: string): Promise<void>;
}

/** What {@link openSshSession} needs. */
export interface SshSessionOptions {
  /** Where the node's SSH server is reached. */
  readonly endpoint: SshEndpoint;
  /** Who logs in, with which key or password. */
  readonly login: LoginCredentials;
  /** The pinned host key and how a first one is pinned. */
  readonly hostKeys: HostKeyPins;
  /** Node name, in errors. */
  readonly node: string;
  /** Handshake and authentication time limit (default 20 s). */
  readonly readyTimeoutMs?: number;
  /** Stops connecting with `ABORTED`. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Ciphers in OpenSSH's own order, ChaCha20-Poly1305 first. ssh2 prefers AES-GCM on hosts with AES
 * instructions, but a guest under emulation (TCG) runs AES in software: copying 100 MiB in took
 * about twice as long with AES-GCM as with ChaCha20-Poly1305 (measured with OpenSSH and ssh2 alike).
 */
const OPENSSH_CIPHERS = [
  'chacha20-poly1305@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
] as const;

/** An open SSH connection to one node. */
export interface SshSession {
  /** Starts `command` in a new session channel (no pty). */
  exec(command: string): Promise<ClientChannel>;
  /** Closes the connection; idempotent. */
  close(): void;
  /** Resolves when the connection is gone. */
  readonly closed: Promise<void>;
}

/** The `type base64` form of an SSH public key blob (its first field names its type). */
export function hostKeyLine(blob: Buffer): string {
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const type = blob.subarray(4, 4 + length).toString('latin1');
  return `${type} ${blob.toString('base64')}`;
}

/**
 * Connects and authenticates (private key, then password) with ssh2, loaded on first use. The
 * node's host key must equal the pinned one; on first contact the key shown is pinned once the
 * login succeeded. A changed key is refused with `CONFLICT` naming the node, nothing sent.
 * Secrets go to ssh2 only: errors say what failed, never with what.
 */
export async function openSshSession(options: SshSessionOptions): Promise<SshSession> {
  const { endpoint, login, node, signal } = options;
  if (signal?.aborted) throw abortedError(signal, `SSH to ${node}`);
  const pinned = await options.hostKeys.pinned();
  const { default: ssh2 } = await import('ssh2');
  const client: Client = new ssh2.Client();
  let shown: string | undefined;
  let mismatch = false;
  const config: ConnectConfig = {
    host: endpoint.host,
    port: endpoint.port,
    username: login.user,
    ...(login.privateKey !== undefined ? { privateKey: login.privateKey } : {}),
    ...(login.password !== undefined ? { password: login.password } : {}),
    readyTimeout: options.readyTimeoutMs ?? 20_000,
    algorithms: { cipher: [...OPENSSH_CIPHERS] },
    keepaliveInterval: 15_000,
    hostVerifier: (key: Buffer) => {
      shown = hostKeyLine(key);
      mismatch = pinned !== undefined && pinned !== shown;
      return !mismatch;
    },
  };
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      client.end();
      reject(abortedError(signal as AbortSignal, `SSH to ${node}`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    // `on`, not `once`: ssh2 may report a second error (a handshake timeout, then the lost
    // connection); unheard, it would crash the process. The first one settles the connect.
    client.on('error', (error: Error & { level?: string }) => {
      signal?.removeEventListener('abort', onAbort);
      client.end();
      reject(connectError(error, node, endpoint, login.user, mismatch));
    });
    client.connect(config);
  });
  if (pinned === undefined && shown !== undefined) {
    try {
      await options.hostKeys.pin(shown);
    } catch (error) {
      client.end();
      throw error;
    }
  }
  // Errors after the handshake end the connection (the listener above stays, its promise
  // settled); what waits on it sees the channel close.
  return {
    exec: (command) =>
      new Promise((resolve, reject) => {
        client.exec(command, (error, channel) => (error ? reject(execError(error, node)) : resolve(channel)));
      }),
    close: () => client.end(),
    closed,
  };
}

function connectError(
  error: Error & { level?: string },
  node: string,
  endpoint: SshEndpoint,
  user: string,
  mismatch: boolean,
): VmkitError {
  const where = `${endpoint.host}:${endpoint.port}`;
  if (mismatch)
    return new VmkitError(
      'CONFLICT',
      `node ${node} (${where}) showed an SSH host key other than the one pinned on first contact: ` +
        'refused (someone may be in between); if the node was remade, destroy and make it through vmkit',
      { details: { node, reason: 'host-key-changed' }, retryable: false },
    );
  if (error.level === 'client-authentication')
    return new VmkitError(
      'PROVIDER',
      `SSH to node ${node} (${where}): the guest refused the login of ${user}`,
      {
        details: { node, reason: 'authentication' },
        retryable: false,
      },
    );
  return new VmkitError('PROVIDER', `SSH to node ${node} (${where}) failed: ${error.message}`, {
    details: { node, reason: 'connect' },
    retryable: true,
  });
}

function execError(error: Error, node: string): VmkitError {
  return new VmkitError('PROVIDER', `SSH to node ${node}: could not start a command: ${error.message}`, {
    details: { node },
    retryable: true,
  });
}
