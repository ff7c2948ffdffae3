import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { integerOption, invalidArgument, type Logger, silentLogger } from '@vmkit/core/spi';
import type { BootIsoCache } from '@vmkit/imaging';

/** Default time a master's installer may run: 2 hours. */
export const DEFAULT_INSTALL_TIMEOUT_MS = 7_200_000;
/** Default time a guest may take to power off after the ACPI power button: 30 s. */
export const DEFAULT_STOP_GRACE_MS = 30_000;
/** Default interval between reads of a machine's state: 250 ms. */
export const DEFAULT_POLL_INTERVAL_MS = 250;
/** Default extra attempts to lock a machine another session holds: 20. */
export const DEFAULT_LOCK_RETRIES = 20;
/** Default age after which start-up removes a half-made node: 10 minutes. */
export const DEFAULT_RECONCILE_AFTER_MS = 600_000;
/** Default time to keep logging on again after vboxwebsrv went away: 30 s. */
export const DEFAULT_RECONNECT_TIMEOUT_MS = 30_000;

/** Options of {@link virtualBoxProvider}. */
export interface VirtualBoxProviderOptions {
  /** vboxwebsrv endpoint, e.g. `http://127.0.0.1:18083/`. */
  readonly url: string;
  /** User to log on as (default: empty, for a vboxwebsrv with authentication off). */
  readonly username?: string;
  /** Password; never logged or put in an error. */
  readonly password?: string;
  /** Prefix of every machine vmkit makes (default `vmkit-`); machines without it are never touched. */
  readonly namePrefix?: string;
  /**
   * Folder for machine settings, converted disks and config drives, on the host vboxwebsrv runs
   * on (which must be this host: vmkit writes config drives there). Default `~/.vmkit/virtualbox`.
   */
  readonly machineFolder?: string;
  /** Guest OS type id of masters and nodes (default `Linux_64`). */
  readonly osTypeId?: string;
  /** How long a guest may take to power off after the ACPI power button, in ms (default {@link DEFAULT_STOP_GRACE_MS}). */
  readonly stopGraceMs?: number;
  /** How long an installer may run before the build fails, in ms (default {@link DEFAULT_INSTALL_TIMEOUT_MS}). */
  readonly installTimeoutMs?: number;
  /**
   * How long `startNode` (and so node creation) watches a launched node before reporting it
   * started: a guest that pauses (a full disk), gets stuck or aborts meanwhile fails the start
   * with that cause, powered off (default 0: no watch, the launch's own progress is all).
   */
  readonly startWatchMs?: number;
  /** How often machine states are polled, in ms (default {@link DEFAULT_POLL_INTERVAL_MS}, at least 5; waiting for a guest to shut down backs off to 8× this). */
  readonly pollIntervalMs?: number;
  /** Attempts to lock a machine another session holds (default {@link DEFAULT_LOCK_RETRIES}, at most 1000), with growing pauses. */
  readonly lockRetries?: number;
  /**
   * At start-up, a machine with the prefix but no vmkit metadata (a clone cut off before it was
   * configured) is removed when its last state change is older than this, in ms (default
   * {@link DEFAULT_RECONCILE_AFTER_MS}).
   */
  readonly reconcileAfterMs?: number;
  /**
   * How long to keep trying to reach vboxwebsrv again after the connection or the websession was
   * lost (it restarted), with growing pauses, before a call fails, in ms (default
   * {@link DEFAULT_RECONNECT_TIMEOUT_MS}; always within the caller's signal).
   */
  readonly reconnectTimeoutMs?: number;
  /** The `qemu-img` binary used to convert qcow2 and raw disks to VDI (default `qemu-img`). */
  readonly qemuImg?: string;
  /**
   * Where ISOs remastered with `kernelParams` (`iso` and `bootIso` sources) are kept, so a second
   * master with the same ISO and parameters is not remastered again (see `bootIsoCache` of
   * `@vmkit/imaging`; one process per cache folder). Default: a cache of the provider's own in a
   * temporary folder, removed by `close`.
   */
  readonly bootIsoCache?: BootIsoCache;
  /**
   * Where the provider reports what it does on its own (a half-made node removed at start-up, a
   * master reference that breaks a rule and is left alone). Default: nothing is logged.
   */
  readonly logger?: Logger;
  /**
   * The guest login Guest Control uses when the node's stored login has no password (an image
   * whose password vmkit does not know, e.g. a Vagrant box's `vagrant`/`vagrant`). Default none:
   * such nodes have no guest agent (`UNSUPPORTED`; SSH still works). Never logged.
   */
  readonly guestLogin?: { readonly user: string; readonly password: string };
}

/** Options with defaults applied, validated (the boot ISO cache is the provider's: see `VboxContext`). */
export type ResolvedVirtualBoxProviderOptions = Readonly<
  Required<Omit<VirtualBoxProviderOptions, 'bootIsoCache' | 'guestLogin'>> &
    Pick<VirtualBoxProviderOptions, 'guestLogin'>
>;

/** An option in ms or a count: an integer from 0 (core's `integerOption`). */
function count(field: string, value: number | undefined, fallback: number, max?: number): number {
  return integerOption(field, value, fallback, max === undefined ? { min: 0 } : { min: 0, max });
}

/** Validates options eagerly, naming the bad option; returns them frozen with defaults. */
export function resolveVirtualBoxProviderOptions(
  options: VirtualBoxProviderOptions,
): ResolvedVirtualBoxProviderOptions {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw invalidArgument('url', 'must be an http(s) URL of vboxwebsrv, e.g. http://127.0.0.1:18083/');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalidArgument('url', 'must be an http(s) URL of vboxwebsrv');
  if (url.username || url.password)
    throw invalidArgument('url', 'must not carry credentials; use username/password');
  const namePrefix = options.namePrefix ?? 'vmkit-';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(namePrefix))
    throw invalidArgument(
      'namePrefix',
      'must be 1-32 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  const machineFolder = options.machineFolder ?? join(homedir(), '.vmkit', 'virtualbox');
  if (!isAbsolute(machineFolder)) throw invalidArgument('machineFolder', 'must be an absolute path');
  const login = options.guestLogin;
  if (login !== undefined) {
    if (typeof login?.user !== 'string' || login.user === '')
      throw invalidArgument('guestLogin.user', 'must be a non-empty user name');
    if (typeof login.password !== 'string') throw invalidArgument('guestLogin.password', 'must be a string');
  }
  return Object.freeze({
    ...(login ? { guestLogin: Object.freeze({ user: login.user, password: login.password }) } : {}),
    url: url.href,
    username: options.username ?? '',
    password: options.password ?? '',
    namePrefix,
    machineFolder,
    osTypeId: options.osTypeId ?? 'Linux_64',
    stopGraceMs: count('stopGraceMs', options.stopGraceMs, DEFAULT_STOP_GRACE_MS),
    installTimeoutMs: count('installTimeoutMs', options.installTimeoutMs, DEFAULT_INSTALL_TIMEOUT_MS),
    startWatchMs: count('startWatchMs', options.startWatchMs, 0),
    pollIntervalMs: Math.max(5, count('pollIntervalMs', options.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS)),
    lockRetries: count('lockRetries', options.lockRetries, DEFAULT_LOCK_RETRIES, 1000),
    reconcileAfterMs: count('reconcileAfterMs', options.reconcileAfterMs, DEFAULT_RECONCILE_AFTER_MS),
    reconnectTimeoutMs: count('reconnectTimeoutMs', options.reconnectTimeoutMs, DEFAULT_RECONNECT_TIMEOUT_MS),
    qemuImg: options.qemuImg ?? 'qemu-img',
    logger: options.logger ?? silentLogger,
  });
}
