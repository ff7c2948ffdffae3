import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { invalidArgument } from '@vmkit/core/spi';
import type { BootIsoCache } from '@vmkit/imaging';

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
  /** How long a guest may take to power off after the ACPI power button (default 30,000 ms). */
  readonly stopGraceMs?: number;
  /** How long an installer may run before the build fails (default 2 hours). */
  readonly installTimeoutMs?: number;
  /**
   * How long `startNode` (and so node creation) watches a launched node before reporting it
   * started: a guest that pauses (a full disk), gets stuck or aborts meanwhile fails the start
   * with that cause, powered off (default 0: no watch, the launch's own progress is all).
   */
  readonly startWatchMs?: number;
  /** How often machine states are polled (default 250 ms; waiting for a guest to shut down backs off to 8× this). */
  readonly pollIntervalMs?: number;
  /** Attempts to lock a machine another session holds (default 20), with growing pauses. */
  readonly lockRetries?: number;
  /**
   * At start-up, a machine with the prefix but no vmkit metadata (a clone cut off before it was
   * configured) is removed when its last state change is older than this (default 600,000 ms).
   */
  readonly reconcileAfterMs?: number;
  /**
   * How long to keep trying to reach vboxwebsrv again after the connection or the websession was
   * lost (it restarted), with growing pauses, before a call fails (default 30,000 ms; always
   * within the caller's signal).
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
}

/** Options with defaults applied, validated (the boot ISO cache is the provider's: see `VboxContext`). */
export type ResolvedVirtualBoxProviderOptions = Readonly<
  Required<Omit<VirtualBoxProviderOptions, 'bootIsoCache'>>
>;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw invalidArgument(name, 'must be a number >= 0');
  return value;
}

/** Applies defaults and validates eagerly, naming the bad option. */
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
  const retries = positive('lockRetries', options.lockRetries, 20);
  if (!Number.isInteger(retries) || retries > 1000)
    throw invalidArgument('lockRetries', 'must be an integer 0-1000');
  return Object.freeze({
    url: url.href,
    username: options.username ?? '',
    password: options.password ?? '',
    namePrefix,
    machineFolder,
    osTypeId: options.osTypeId ?? 'Linux_64',
    stopGraceMs: positive('stopGraceMs', options.stopGraceMs, 30_000),
    installTimeoutMs: positive('installTimeoutMs', options.installTimeoutMs, 2 * 3600_000),
    startWatchMs: positive('startWatchMs', options.startWatchMs, 0),
    pollIntervalMs: Math.max(5, positive('pollIntervalMs', options.pollIntervalMs, 250)),
    lockRetries: retries,
    reconcileAfterMs: positive('reconcileAfterMs', options.reconcileAfterMs, 600_000),
    reconnectTimeoutMs: positive('reconnectTimeoutMs', options.reconnectTimeoutMs, 30_000),
    qemuImg: options.qemuImg ?? 'qemu-img',
  });
}
