import type { ConfigDriveFormat } from '../model/config-drive-spec.js';
import type { Firmware, Hardware } from '../model/hardware.js';
import type { MasterSource, MasterSpec } from '../model/master-spec.js';
import type { NicAttachment } from '../model/network-spec.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { SharedFolderType } from '../model/shared-folder.js';
import type { OperationOptions } from '../util/progress.js';
import type { CloneSpec } from './clone-spec.js';
import type { ProviderGuestAccess } from './guest-agent.js';
import type { MasterBuild, MasterRef } from './master-build.js';
import type { ProviderMasterExport } from './master-export.js';
import type { ProviderMasterImport } from './master-import.js';
import type { ProviderNodeConsole } from './node-console.js';
import type { NodeImageCapabilities, ProviderNodeImages } from './node-images.js';
import type { ProviderNodeSnapshots, SnapshotCapabilities } from './node-snapshots.js';
import type { ProviderHousekeeping } from './provider-artefacts.js';
import type { ProviderWarmClones } from './warm-clones.js';

/** What a provider can do. */
export interface ProviderCapabilities {
  /** Copy-on-write clones over the master. */
  readonly linkedClones: boolean;
  /** NIC attachments it supports. */
  readonly attachments: readonly NicAttachment[];
  /** Host-to-guest port forwards on NAT NICs. */
  readonly portForwarding: boolean;
  /** Config drive layouts it can attach. */
  readonly configDriveFormats: readonly ConfigDriveFormat[];
  /** Master sources it can build from. */
  readonly sources: readonly MasterSource['type'][];
  /** Whether nodes can be suspended and resumed. */
  readonly suspend: boolean;
  /** Whether nodes can get extra data volumes (`CloneSpec.dataVolumes`); absent means no. */
  readonly dataVolumes?: boolean;
  /**
   * Whether it reaches inside running nodes through an in-guest agent ({@link ProviderGuestAccess}:
   * commands, files, the guest's own addresses); absent means no.
   */
  readonly guestAgent?: boolean;
  /**
   * What node snapshots it can take and revert ({@link ProviderNodeSnapshots}); absent means none.
   */
  readonly snapshots?: SnapshotCapabilities;
  /**
   * What nodes it can make new images from ({@link ProviderNodeImages}); absent means none.
   */
  readonly imageFromNode?: NodeImageCapabilities;
  /**
   * Firmware its masters and nodes can boot with (`hardware.firmware`); absent means `bios`
   * only. Core refuses an `efi` master or node early where it is missing.
   */
  readonly firmware?: readonly Firmware[];
  /**
   * Whether nodes can get shared folders (`CloneSpec.sharedFolders`), and the file system the guest
   * mounts them as; absent means none, and core refuses a template with `sharedFolders` early.
   */
  readonly sharedFolders?: SharedFolderType;
  /**
   * Whether nodes can resume a saved running template instead of booting ({@link ProviderWarmClones});
   * absent means no, and core refuses `createNodesInGroup(..., { warm: true })` early.
   */
  readonly warmClones?: boolean;
}

/** A network of the host that NICs can attach to. */
export interface HostNetwork {
  /** Interface or network name. */
  readonly name: string;
  /**
   * What it is good for: `bridge` (bridged NICs join it), `nat`, `hostOnly`, `internal`, or
   * `interface` (a host NIC that is not a bridge: bridged NICs need a bridge over it).
   */
  readonly kind: 'bridge' | 'hostOnly' | 'internal' | 'nat' | 'interface';
  /** Whether it is up. */
  readonly up: boolean;
  /** Its addresses (CIDR), when known. */
  readonly addresses?: readonly string[];
}

/** The host behind a provider's connection, as the hypervisor reports it (known once connected). */
export interface ProviderHost {
  /** A stable identity of the host (e.g. libvirt's host UUID): scopes port leases per target host. */
  readonly id: string;
  /**
   * Whether the hypervisor runs on this machine. When false, core neither probes local ports for
   * it nor shares its port leases with local ones: the ports are bound on the other host.
   */
  readonly local: boolean;
}

/**
 * A node as a provider reports it; core adds host ports and login. `master` is the id
 * (`MasterRef.id`) of the master it was cloned from, when the provider records it: core checks it
 * against its image's current master before describing an image made from the node by that
 * image's spec. It is not part of the node as callers see it.
 */
export type ProviderNode = Omit<NodeMetadata, 'hostPorts' | 'login'> & { readonly master?: string };

/**
 * The provider SPI: what a hypervisor must do for vmkit. Providers are plain factories
 * (`libvirtProvider(options)`) returning this; every provider passes `describeProviderContract`.
 *
 * Rules: methods throw {@link VmkitError}s (`NOT_FOUND` for unknown nodes or masters, `PROVIDER`
 * for hypervisor failures, `ABORTED` when a signal fires); `cloneNode` rolls back its own partial
 * work before throwing; `destroyNode` and `deleteMaster` succeed when the thing is already gone.
 * The optional {@link ProviderHousekeeping} methods serve `pruneImages` and `diskUsage`;
 * the optional {@link ProviderMasterExport} method serves `exportImageDisk`, and with
 * {@link ProviderMasterImport} the `shareMasters` option; the optional {@link ProviderGuestAccess}
 * method serves commands, file copies and addresses read inside nodes; the optional
 * {@link ProviderNodeSnapshots} methods serve node snapshots; the optional
 * {@link ProviderNodeImages} method serves `createImageFromNode`; the optional
 * {@link ProviderWarmClones} methods serve warm clones; the optional {@link ProviderNodeConsole}
 * method serves `readNodeConsole`.
 */
export interface HypervisorProvider
  extends ProviderHousekeeping,
    ProviderMasterExport,
    ProviderMasterImport,
    ProviderGuestAccess,
    ProviderNodeSnapshots,
    ProviderNodeImages,
    ProviderNodeConsole,
    ProviderWarmClones {
  /** Provider kind, e.g. `libvirt`. */
  readonly name: string;
  /**
   * Identity of the host behind the connection, scoping the catalogue in the store and port lease
   * owners (e.g. `libvirt:<host uuid>:qemu:///system`). Core reads it after {@link init}, so a
   * provider may learn it while connecting.
   */
  readonly id: string;
  /**
   * Ids this provider had under earlier versions (e.g. `libvirt:qemu:///system`): core moves their
   * catalogue to {@link id} once, for the masters that exist on this host.
   */
  readonly previousIds?: readonly string[];
  /** The host behind the connection (read after {@link init}); absent means this machine. */
  readonly host?: ProviderHost;
  /** Connects; called once by core before first use. */
  init?(): Promise<void>;
  /** What it can do. */
  capabilities(): Promise<ProviderCapabilities>;
  /** Hardware profiles it offers (default: core's). */
  hardwareProfiles?(): Promise<readonly Hardware[]>;
  /** Host networks NICs can attach to. */
  listHostNetworks(): Promise<readonly HostNetwork[]>;
  /** Plans the build of a master; core runs the steps. */
  planMasterBuild(spec: MasterSpec, masterName: string): MasterBuild;
  /**
   * Checks a master reference read from the store, which is untrusted input, against what this
   * provider itself would have made: names derived from the master's name and the provider's
   * prefix, the configured pool or folder, boot files equal to the spec's source or inside
   * vmkit's own storage. Core calls it for every record it loads (the master and each retired
   * one) and quarantines a record that fails, so nothing the record names is touched; providers
   * call it again before they delete, clone or boot (defence in depth).
   *
   * @param ref - The reference as stored.
   * @param spec - The spec the record says the master was built from; `undefined` for a retired
   *   master (built from an earlier spec), which is only ever deleted.
   * @throws VmkitError `CORRUPT` naming the field (e.g. `master.data.volume`) and the rule it broke.
   */
  checkMasterRef?(ref: MasterRef, spec: MasterSpec | undefined): void;
  /** For each reference, whether the master still exists. */
  mastersExist(refs: readonly MasterRef[]): Promise<boolean[]>;
  /** Deletes a master; already gone is not an error. */
  deleteMaster(ref: MasterRef): Promise<void>;
  /** Creates (but does not start) a node; on failure nothing of it remains. */
  cloneNode(spec: CloneSpec, options?: OperationOptions): Promise<ProviderNode>;
  /** Starts a node. */
  startNode(id: string, options?: OperationOptions): Promise<void>;
  /** Stops a node (power off after a grace period). */
  stopNode(id: string, options?: OperationOptions): Promise<void>;
  /** Reboots a node. */
  rebootNode(id: string, options?: OperationOptions): Promise<void>;
  /** Suspends a node. */
  suspendNode(id: string, options?: OperationOptions): Promise<void>;
  /** Resumes a suspended node. */
  resumeNode(id: string, options?: OperationOptions): Promise<void>;
  /** Stops and deletes a node and all it owns (disks, config drive); gone is not an error. */
  destroyNode(id: string, options?: OperationOptions): Promise<void>;
  /** Every node this provider made. */
  listNodes(): Promise<readonly ProviderNode[]>;
  /** One node, or `undefined`. */
  getNode(id: string): Promise<ProviderNode | undefined>;
  /** Releases connections; idempotent. */
  close?(): Promise<void>;
}
