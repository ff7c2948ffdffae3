import { integerOption, invalidArgument, type Logger, silentLogger } from '@vmkit/core/spi';
import type { BootIsoCache } from '@vmkit/imaging';
import type { LibvirtClientOptions } from '../client/libvirt-client.js';
import {
  type LibvirtReconnectOptions,
  type ResolvedReconnectPolicy,
  resolveReconnectPolicy,
} from '../client/reconnect-policy.js';
import { parseLibvirtUri } from '../transport/libvirt-uri.js';
import { checkTlsOptions, type LibvirtTlsOptions } from '../transport/tls-credentials.js';
import { checkUriPrograms } from '../transport/uri-programs.js';

/** Default time a master's installer or post-install boot may run: 10 minutes. */
export const DEFAULT_INSTALL_TIMEOUT_MS = 600_000;
/** Default time `stopNode` waits for an ACPI shutdown before it powers a node off: 20 s. */
export const DEFAULT_STOP_GRACE_MS = 20_000;
/** Default of {@link LibvirtProviderOptions.installPowerOffMs}: a minute. */
export const DEFAULT_INSTALL_POWER_OFF_MS = 60_000;

/** Options of {@link libvirtProvider}. */
export interface LibvirtProviderOptions {
  /**
   * Connection URI, e.g. `qemu:///system`, `test+unix:///default`, `qemu+tls://host/system`
   * (libvirt's default for a host: `qemu://host/system`), `qemu+ssh://user@host/system`.
   */
  readonly uri: string;
  /** Storage pool holding masters, overlays and config drives (default `vmkit`; created if missing). */
  readonly pool?: string;
  /** Directory of the pool when it has to be created (default `/var/lib/libvirt/vmkit`, `~/.local/share/libvirt/vmkit` for session URIs). */
  readonly poolPath?: string;
  /** Domain type (default: chosen from capabilities, `kvm` only when asked; `qemu` for TCG). */
  readonly domainType?: string;
  /** Prefix of every domain and volume name vmkit makes (default `vmkit-`; must not be empty, so vmkit never touches others' domains). */
  readonly namePrefix?: string;
  /** Machine type (default `pc`: the config drive is an IDE CD-ROM; `q35` uses virtio-scsi). */
  readonly machine?: 'pc' | 'q35';
  /** How long a master's installer may run before the build fails, in ms (default {@link DEFAULT_INSTALL_TIMEOUT_MS}). */
  readonly installTimeoutMs?: number;
  /** How long a master's post-install boot (its `postInstall` steps) may run, in ms (default {@link DEFAULT_INSTALL_TIMEOUT_MS}). */
  readonly postInstallTimeoutMs?: number;
  /**
   * How long an installer that signalled its end (`installFinished` other than `'poweroff'`) has
   * to power off after the ACPI power button, in ms, before it is turned off (default
   * {@link DEFAULT_INSTALL_POWER_OFF_MS}).
   */
  readonly installPowerOffMs?: number;
  /** How long `stopNode` waits for an ACPI shutdown before powering off (default {@link DEFAULT_STOP_GRACE_MS}). */
  readonly stopGraceMs?: number;
  /**
   * How long `startNode` watches a domain it started before reporting it running, in ms (default
   * 0: only the state right after the start is checked). A guest that pauses on an I/O error (a
   * full pool), crashes or stops within it fails the start, which node creation rolls back.
   */
  readonly startWatchMs?: number;
  /** Node kernel command line from a kernel master's installer command line (default: `mode=install` becomes `mode=run`). */
  readonly nodeCmdline?: (installCmdline: string) => string;
  /** The ssh binary for `+ssh` URIs. */
  readonly sshBinary?: string;
  /** The x509 files of a `+tls` URI (default: searched for as libvirt does); see {@link LibvirtClientOptions.tls}. */
  readonly tls?: LibvirtTlsOptions;
  /**
   * Let the URI choose programs to run: `?command=` (the local ssh program) and `?netcat=` (the
   * program run on the ssh host). Default false: such a URI is refused with `INVALID_ARGUMENT`
   * naming the parameter, since whoever wrote the URI (a config file, a record, a user) could
   * otherwise run any program as the caller. Set it only for URIs you wrote yourself; prefer
   * {@link LibvirtProviderOptions.sshBinary} to choose the ssh program.
   */
  readonly allowUriPrograms?: boolean;
  /**
   * The host's name in the provider id, for hosts whose own names are not unique or stable
   * (default: the daemon's SMBIOS-backed host UUID, else its hostname). 1-128 letters, digits,
   * `.`, `_`, `:`, `=` or `-`.
   */
  readonly hostId?: string;
  /**
   * How the connection comes back when libvirtd goes away (a restart, a lost network): see
   * {@link LibvirtClientOptions.reconnect}. Default: on its own, 100 ms doubling to 2 s between
   * tries, for 30 s in all; `false` fails every call once the connection is lost.
   */
  readonly reconnect?: boolean | LibvirtReconnectOptions;
  /**
   * Where ISOs remastered with `kernelParams` (`iso` and `bootIso` sources) are kept, so a second
   * master with the same ISO and parameters is not remastered again (see `bootIsoCache` of
   * `@vmkit/imaging`; one process per cache folder). Default: a cache of the provider's own in a
   * temporary folder, removed by `close`.
   */
  readonly bootIsoCache?: BootIsoCache;
  /**
   * Where the provider reports what it does on its own or could not do: a master reference that
   * breaks a rule and is left alone, a volume a build's clean-up could not remove (it stays in the
   * pool). Default: nothing is logged.
   */
  readonly logger?: Logger;
}

/** {@link LibvirtProviderOptions} validated, with defaults. */
export interface ResolvedLibvirtProviderOptions {
  readonly uri: string;
  readonly hostId?: string;
  readonly pool: string;
  readonly poolPath: string;
  readonly domainType?: string;
  readonly namePrefix: string;
  readonly machine: 'pc' | 'q35';
  readonly installTimeoutMs: number;
  readonly postInstallTimeoutMs: number;
  readonly installPowerOffMs: number;
  readonly stopGraceMs: number;
  readonly startWatchMs: number;
  readonly nodeCmdline: (installCmdline: string) => string;
  readonly sshBinary?: string;
  readonly tls?: LibvirtTlsOptions;
  readonly allowUriPrograms: boolean;
  readonly reconnect: ResolvedReconnectPolicy | false;
  readonly logger: Logger;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const PREFIX = /^[A-Za-z0-9._-]{1,20}$/;

/** Validates options eagerly, naming the bad option; returns them frozen with defaults. */
export function resolveLibvirtProviderOptions(
  options: LibvirtProviderOptions,
): ResolvedLibvirtProviderOptions {
  if (typeof options?.uri !== 'string' || options.uri === '')
    throw invalidArgument('uri', 'must be a libvirt URI');
  const target = parseLibvirtUri(options.uri);
  if (options.allowUriPrograms !== undefined && typeof options.allowUriPrograms !== 'boolean')
    throw invalidArgument('allowUriPrograms', 'must be true or false');
  checkUriPrograms(target, options.allowUriPrograms, 'allowUriPrograms');
  checkTlsOptions(options.tls);
  const pool = options.pool ?? 'vmkit';
  if (!NAME.test(pool)) throw invalidArgument('pool', 'must be 1-63 letters, digits, ".", "_" or "-"');
  const session = target.remoteName.includes('/session');
  const poolPath =
    options.poolPath ??
    (session ? `${process.env.HOME ?? '/root'}/.local/share/libvirt/vmkit` : '/var/lib/libvirt/vmkit');
  if (!poolPath.startsWith('/') || poolPath.split('/').includes('..')) {
    throw invalidArgument('poolPath', 'must be an absolute path without ".."');
  }
  const namePrefix = options.namePrefix ?? 'vmkit-';
  if (!PREFIX.test(namePrefix))
    throw invalidArgument('namePrefix', 'must be 1-20 letters, digits, ".", "_" or "-"');
  if (options.domainType !== undefined && !/^[a-z]+$/.test(options.domainType)) {
    throw invalidArgument('domainType', 'must be a libvirt domain type such as qemu or kvm');
  }
  if (options.hostId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._:=-]{0,127}$/.test(options.hostId)) {
    throw invalidArgument(
      'hostId',
      'must be 1-128 letters, digits, ".", "_", ":", "=" or "-", starting with a letter or digit',
    );
  }
  const machine = options.machine ?? 'pc';
  if (machine !== 'pc' && machine !== 'q35') throw invalidArgument('machine', "must be 'pc' or 'q35'");
  return Object.freeze({
    uri: options.uri,
    ...(options.hostId !== undefined ? { hostId: options.hostId } : {}),
    pool,
    poolPath,
    ...(options.domainType === undefined ? {} : { domainType: options.domainType }),
    namePrefix,
    machine,
    installTimeoutMs: integerOption('installTimeoutMs', options.installTimeoutMs, DEFAULT_INSTALL_TIMEOUT_MS),
    installPowerOffMs: integerOption(
      'installPowerOffMs',
      options.installPowerOffMs,
      DEFAULT_INSTALL_POWER_OFF_MS,
    ),
    postInstallTimeoutMs: integerOption(
      'postInstallTimeoutMs',
      options.postInstallTimeoutMs,
      DEFAULT_INSTALL_TIMEOUT_MS,
    ),
    stopGraceMs: integerOption('stopGraceMs', options.stopGraceMs, DEFAULT_STOP_GRACE_MS),
    startWatchMs: integerOption('startWatchMs', options.startWatchMs, 0, { min: 0 }),
    nodeCmdline: options.nodeCmdline ?? ((c: string) => c.replace(/\bmode=install\b/, 'mode=run')),
    ...(options.sshBinary === undefined ? {} : { sshBinary: options.sshBinary }),
    ...(options.tls === undefined ? {} : { tls: Object.freeze({ ...options.tls }) }),
    allowUriPrograms: options.allowUriPrograms === true,
    reconnect: resolveReconnectPolicy(options.reconnect),
    logger: options.logger ?? silentLogger,
  });
}
