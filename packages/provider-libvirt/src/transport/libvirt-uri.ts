import { homedir } from 'node:os';
import { join } from 'node:path';
import { invalidArgument, redactText, VmkitError } from '@vmkit/core/spi';
import { DEFAULT_TCP_PORT, DEFAULT_TLS_PORT } from '../rpc/protocol.js';

/** How the client reaches libvirtd. */
export type TransportKind = 'unix' | 'tcp' | 'tls' | 'ssh';

/** A libvirt connection URI taken apart (`driver[+transport]://[user@][host][:port]/path[?params]`). */
export interface LibvirtTarget {
  /** The URI as given. */
  readonly uri: string;
  /** Hypervisor driver: `qemu`, `test`, ... */
  readonly driver: string;
  /** How to reach the daemon. */
  readonly transport: TransportKind;
  /** Remote user (ssh). */
  readonly user?: string;
  /** Remote host (tcp, tls, ssh). */
  readonly host?: string;
  /** Port (tcp, tls: libvirtd's, ssh: sshd's). */
  readonly port?: number;
  /** Unix socket path: local for `unix`, on the remote host for `ssh`. */
  readonly socketPath: string;
  /** The URI the daemon opens (`CONNECT_OPEN`): the transport, host and client-side parameters removed. */
  readonly remoteName: string;
  /** Query parameters. */
  readonly params: Readonly<Record<string, string>>;
}

/** Query parameters consumed by the client, not passed on to the daemon. */
const CLIENT_PARAMS = new Set([
  'name',
  'socket',
  'command',
  'netcat',
  'keyfile',
  'no_verify',
  'no_tty',
  'proxy',
  'mode',
  'sshauth',
  'known_hosts',
  'known_hosts_verify',
  'pkipath',
]);

/** Socket of the system daemon. */
export const SYSTEM_SOCKET = '/run/libvirt/libvirt-sock';

/** Socket of the current user's session daemon. */
export function sessionSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR;
  return runtime
    ? join(runtime, 'libvirt', 'libvirt-sock')
    : join(homedir(), '.cache', 'libvirt', 'libvirt-sock');
}

/**
 * Parses a libvirt URI. Supported transports: `unix` (the default without a host), `tls` (the
 * default with a host; port 16514), `tcp` (port 16509) and `ssh`. A `tls` URI may name the folder
 * of its certificates (`?pkipath=`); `?no_verify=1` is refused there: the server's certificate is
 * always checked.
 */
export function parseLibvirtUri(uri: string): LibvirtTarget {
  // Messages show the URI without a `user:password@` or query values.
  const shown = redactText(uri);
  const m =
    /^([a-z][a-z0-9]*)(?:\+([a-z0-9]+))?:\/\/(?:([^@/?#]*)@)?([^/?#:]*|\[[^\]]*\])?(?::(\d+))?(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(
      uri,
    );
  if (!m)
    throw invalidArgument(
      'uri',
      `not a libvirt URI (driver[+transport]://[user@][host][:port]/path): ${shown}`,
    );
  const [, driver = '', transportRaw, userRaw, hostRaw, portRaw, pathRaw, query] = m;
  const host = hostRaw ? decodeURIComponent(hostRaw.replace(/^\[|\]$/g, '')) : undefined;
  const transportName = (transportRaw ?? (host ? 'tls' : 'unix')).toLowerCase();
  if (!['unix', 'tcp', 'tls', 'ssh'].includes(transportName)) {
    throw new VmkitError(
      'UNSUPPORTED',
      `libvirt transport '${transportName}' is not supported yet (use unix, tls, tcp or ssh): ${shown}`,
    );
  }
  const transport = transportName as TransportKind;
  if (transport === 'unix' && host)
    throw invalidArgument('uri', `the unix transport takes no host: ${shown}`);
  if (transport !== 'unix' && !host)
    throw invalidArgument('uri', `the ${transport} transport needs a host: ${shown}`);
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query ?? '')) params[k] = v;
  const path = pathRaw ?? '/';
  if (transport === 'tls' && params.no_verify !== undefined && params.no_verify !== '0')
    throw invalidArgument(
      'uri',
      `no_verify is not supported over tls: the server's certificate is always checked: ${shown}`,
    );
  const port = portRaw
    ? Number(portRaw)
    : transport === 'tcp'
      ? DEFAULT_TCP_PORT
      : transport === 'tls'
        ? DEFAULT_TLS_PORT
        : undefined;
  if (port !== undefined && (port < 1 || port > 65535))
    throw invalidArgument('uri', `port out of range: ${shown}`);
  const passOn = Object.entries(params).filter(([k]) => !CLIENT_PARAMS.has(k));
  const remoteQuery = passOn.length > 0 ? `?${new URLSearchParams(passOn).toString()}` : '';
  const remoteName = params.name ?? `${driver}://${path}${remoteQuery}`;
  const session = path === '/session';
  const socketPath =
    params.socket ??
    (transport === 'ssh' ? '/var/run/libvirt/libvirt-sock' : session ? sessionSocketPath() : SYSTEM_SOCKET);
  return Object.freeze({
    uri,
    driver: driver.toLowerCase(),
    transport,
    ...(userRaw ? { user: decodeURIComponent(userRaw) } : {}),
    ...(host ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    socketPath,
    remoteName,
    params: Object.freeze(params),
  });
}
