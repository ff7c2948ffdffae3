import { integerOption, invalidArgument } from '@vmkit/core/spi';
import { parseLibvirtUri } from '../transport/libvirt-uri.js';
import { checkTlsOptions } from '../transport/tls-credentials.js';
import { checkUriPrograms } from '../transport/uri-programs.js';
import type { LibvirtClientOptions } from './libvirt-client.js';
import { type ResolvedReconnectPolicy, resolveReconnectPolicy } from './reconnect-policy.js';

/** How long opening a connection may take by default (connect, authentication, `CONNECT_OPEN`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Silence after which the client pings the daemon, by default. */
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 5_000;
/** Unanswered keepalive intervals after which the daemon is declared dead, by default. */
export const DEFAULT_KEEPALIVE_COUNT = 5;

/** {@link LibvirtClientOptions} checked, with defaults filled in. */
export interface ResolvedLibvirtClientOptions extends LibvirtClientOptions {
  readonly connectTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCount: number;
  readonly reconnect: ResolvedReconnectPolicy | false;
}

/** Checks the client's options eagerly, naming the bad one, and fills in the defaults. */
export function resolveLibvirtClientOptions(options: LibvirtClientOptions): ResolvedLibvirtClientOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'must be an object');
  if (typeof options.uri !== 'string' || options.uri.length === 0)
    throw invalidArgument('uri', 'must be a libvirt connection URI such as qemu:///system');
  for (const flag of ['readOnly', 'allowUriPrograms'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean')
      throw invalidArgument(flag, 'must be a boolean');
  }
  if (
    options.sshBinary !== undefined &&
    (typeof options.sshBinary !== 'string' || options.sshBinary.length === 0)
  )
    throw invalidArgument('sshBinary', 'must be a non-empty string');
  checkUriPrograms(parseLibvirtUri(options.uri), options.allowUriPrograms, 'allowUriPrograms');
  checkTlsOptions(options.tls);
  return Object.freeze({
    ...options,
    reconnect: resolveReconnectPolicy(options.reconnect),
    connectTimeoutMs: integerOption(
      'connectTimeoutMs',
      options.connectTimeoutMs,
      DEFAULT_CONNECT_TIMEOUT_MS,
      {
        max: 3_600_000,
      },
    ),
    keepaliveIntervalMs: integerOption(
      'keepaliveIntervalMs',
      options.keepaliveIntervalMs,
      DEFAULT_KEEPALIVE_INTERVAL_MS,
      { min: 0, max: 3_600_000 },
    ),
    keepaliveCount: integerOption('keepaliveCount', options.keepaliveCount, DEFAULT_KEEPALIVE_COUNT, {
      max: 1000,
    }),
  });
}
