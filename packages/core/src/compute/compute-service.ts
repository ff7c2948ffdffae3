import type { CreateNodesOptions } from '../model/create-nodes-options.js';
import type {
  CopyDestination,
  CopyFromNodeOptions,
  CopyResult,
  CopySource,
  CopyToNodeOptions,
  NodeScript,
  NodeScriptResult,
  RunScriptOnNodesOptions,
  RunScriptOptions,
  ScriptResult,
  WaitForNodeOptions,
} from '../model/guest-exec.js';
import type { Hardware } from '../model/hardware.js';
import type { Image } from '../model/image.js';
import type { LoginCredentials } from '../model/login-credentials.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { CreateImageFromNodeOptions } from '../model/node-image.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { NodeSnapshot, SnapshotNodeOptions } from '../model/node-snapshot.js';
import type { Template, TemplateOptions } from '../model/template.js';
import type { HostNetwork } from '../spi/hypervisor-provider.js';
import type { MasterDiskExport } from '../spi/master-export.js';
import type { OperationOptions } from '../util/progress.js';
import type { DiskUsageReport } from './disk-usage.js';
import type { PruneImagesOptions, PruneResult } from './prune-images.js';
import type { ReapNodesOptions, ReapResult } from './reap-nodes.js';
import type { TemplateBuilder } from './template-builder.js';

/**
 * The portable compute service: images are masters built lazily on first demand, nodes are
 * (linked) clones of them. Made by `createComputeService`; close it when done (`await using` works).
 */
export interface ComputeService extends AsyncDisposable {
  /**
   * Whether masters are built once per fleet (the `shareMasters` option): other hosts use this
   * service's store, so the import service keeps imported images there by default.
   */
  readonly sharesMasters: boolean;
  /** Every image: configured, persisted or registered, with its status. */
  listImages(): Promise<Image[]>;
  /** One image, or `undefined`. */
  getImage(id: string): Promise<Image | undefined>;
  /**
   * Makes sure the image's master exists, building it now if needed (the loading cache's get).
   * Given a spec, registers it first. Concurrent calls share one build.
   */
  ensureImage(idOrSpec: string | MasterSpec, options?: OperationOptions): Promise<Image>;
  /** Deletes an image's master and metadata; refuses (`CONFLICT`) while nodes use it unless `force` (which destroys them). */
  deleteImage(id: string, options?: { force?: boolean }): Promise<void>;
  /**
   * Removes ephemeral nodes of dead owners (as {@link ComputeService.reapNodes}, reported as kind
   * `node`), then masters no node uses (with their superseded masters and records) and leftovers of
   * crashed builds that no record or running build owns; `dryRun` only reports. See `docs/housekeeping.md`.
   */
  pruneImages(options?: PruneImagesOptions): Promise<PruneResult>;
  /**
   * Removes the ephemeral nodes (`TemplateOptions.ephemeral`) whose owner is gone (its owner lease
   * lapsed), with their disks and port leases; never a node without the owner mark, of a live
   * owner, or of this service. Also done when a service starts and by `pruneImages`; `dryRun`
   * only reports. See `docs/ephemeral-nodes.md`.
   */
  reapNodes(options?: ReapNodesOptions): Promise<ReapResult>;
  /** Allocated and virtual bytes per master, per node and per leftover; `UNSUPPORTED` when the provider cannot measure. */
  diskUsage(): Promise<DiskUsageReport>;
  /**
   * Copies the image's master boot disk (built first if needed) to the new file `toPath`, in the
   * master's own format, through the provider's optional `exportMasterDisk`: `UNSUPPORTED` when
   * the provider has not got it or the master has no disk (a live boot ISO). `deleteImage`
   * refuses while it runs. `@vmkit/import`'s `exportImage` converts the file to VMDK, VHD...
   */
  exportImageDisk(id: string, toPath: string, options?: OperationOptions): Promise<MasterDiskExport>;
  /** The hardware profiles nodes can get. */
  listHardwareProfiles(): Promise<Hardware[]>;
  /** Host networks NICs can attach to. */
  listHostNetworks(): Promise<readonly HostNetwork[]>;
  /** Starts a template query. */
  templateBuilder(): TemplateBuilder;
  /**
   * Creates `count` running nodes in `group` from a template (or from options with the default
   * template). Builds the master first if needed. When some nodes fail, throws `RunNodesError`
   * carrying the nodes that were created; the failed ones were rolled back.
   */
  createNodesInGroup(
    group: string,
    count: number,
    templateOrOptions?: Template | TemplateOptions,
    options?: CreateNodesOptions,
  ): Promise<NodeMetadata[]>;
  /** Every node of this provider. */
  listNodes(): Promise<NodeMetadata[]>;
  /** One node, or `undefined`. */
  getNode(id: string): Promise<NodeMetadata | undefined>;
  /**
   * Destroys a node, its disks and its port leases, with `destroy` progress events; `NOT_FOUND`
   * if unknown, `ABORTED` (nothing removed) if the signal fires before the removal starts.
   */
  destroyNode(id: string, options?: OperationOptions): Promise<void>;
  /**
   * Destroys every node the predicate accepts and returns them, with one `destroy` event per node
   * gone. Once the signal fires no further node is started and the call fails with `ABORTED`.
   */
  destroyNodesMatching(
    predicate: (node: NodeMetadata) => boolean,
    options?: OperationOptions,
  ): Promise<NodeMetadata[]>;
  /** Starts a node; `ABORTED` if the signal fires first. */
  startNode(id: string, options?: OperationOptions): Promise<void>;
  /**
   * Stops a node: a graceful shutdown, then power off after the provider's grace period. When the
   * signal fires during the wait it returns at once with `ABORTED`; the node is left running (or
   * stopped, if the guest finished first), never half-stopped.
   */
  stopNode(id: string, options?: OperationOptions): Promise<void>;
  /** Reboots a node; `ABORTED` if the signal fires first. */
  rebootNode(id: string, options?: OperationOptions): Promise<void>;
  /** Suspends a node; `ABORTED` if the signal fires first. */
  suspendNode(id: string, options?: OperationOptions): Promise<void>;
  /** Resumes a node; `ABORTED` if the signal fires first. */
  resumeNode(id: string, options?: OperationOptions): Promise<void>;
  /**
   * Takes a snapshot of a node's own disk (never its master's), with the running node's memory
   * when `memory` is set, so {@link ComputeService.revertNode} resumes it where it was. Refused
   * before anything is done: a bad `name` or option (`INVALID_ARGUMENT` naming it), an unknown node
   * (`NOT_FOUND`), a name the node already has (`CONFLICT`), and what `capabilities().snapshots`
   * says the provider cannot do in the node's state (`UNSUPPORTED` with the reason). See
   * `docs/snapshots.md`.
   */
  snapshotNode(id: string, name: string, options?: SnapshotNodeOptions): Promise<NodeSnapshot>;
  /** A node's snapshots, oldest first; `NOT_FOUND` for an unknown node. */
  listNodeSnapshots(id: string): Promise<NodeSnapshot[]>;
  /**
   * Puts a node back to a snapshot: its disk, and with a memory snapshot its memory and running
   * state (else the node ends stopped). `NOT_FOUND` for an unknown node or snapshot; `CONFLICT` for
   * a running node on a provider that reverts stopped nodes only. The snapshot stays.
   */
  revertNode(id: string, name: string, options?: OperationOptions): Promise<void>;
  /** Deletes one snapshot of a node (`NOT_FOUND` if unknown); the node and its other snapshots stay. */
  deleteNodeSnapshot(id: string, name: string): Promise<void>;
  /**
   * Makes a new image from a node's disk, flattened (independent of the master the node was
   * cloned from) and recorded in the catalogue like a built master, so it lists, clones, exports
   * and is shared (`shareMasters`) the same. With `seal` (the default) the guest clean-up (NIC
   * rules, machine-id, SSH host keys, host name) runs on the copy, never on the node; the node
   * keeps its state and disk. Refused early: a bad `imageId` or `name` (`INVALID_ARGUMENT` naming
   * it), an unknown node (`NOT_FOUND`), an image id the catalogue has (`CONFLICT`), and what
   * `capabilities().imageFromNode` says the provider cannot do (`UNSUPPORTED` with the reason, e.g.
   * a running node). On failure or abort nothing of the new image is left. See
   * `docs/images-from-nodes.md`.
   */
  createImageFromNode(id: string, options: CreateImageFromNodeOptions): Promise<Image>;
  /**
   * Runs a script in a running node (jclouds' `runScriptOnNode`): shell text by `/bin/sh -c` as
   * root unless `user` says otherwise, or an argv; through the guest agent or SSH (`transport`).
   * A non-zero exit is a result, not an error. `TIMEOUT` / `ABORTED` kill the guest process and
   * carry the partial output in `details`. See `docs/inside-nodes.md`.
   */
  runScriptOnNode(id: string, script: NodeScript, options?: RunScriptOptions): Promise<ScriptResult>;
  /**
   * Runs a script on every node the predicate accepts, `concurrency` at a time; returns a result
   * per node. When a node fails (an error or a non-zero exit), throws `RunScriptError` carrying
   * every node's result and naming the failed ones.
   */
  runScriptOnNodesMatching(
    predicate: (node: NodeMetadata) => boolean,
    script: NodeScript,
    options?: RunScriptOnNodesOptions,
  ): Promise<NodeScriptResult[]>;
  /**
   * Copies a file into a node at the absolute `guestPath`, in bounded memory, SHA-256 checked on
   * both ends; a failed copy leaves nothing at `guestPath`.
   */
  copyToNode(
    id: string,
    source: CopySource,
    guestPath: string,
    options?: CopyToNodeOptions,
  ): Promise<CopyResult>;
  /**
   * Copies the file at the absolute `guestPath` out of a node, SHA-256 checked on both ends; a
   * failed copy leaves nothing at a destination path.
   */
  copyFromNode(
    id: string,
    guestPath: string,
    destination: CopyDestination,
    options?: CopyFromNodeOptions,
  ): Promise<CopyResult>;
  /** Waits until the node answers as `until` says (agent, SSH, a TCP port, an HTTP path); returns it. */
  waitForNode(id: string, options: WaitForNodeOptions): Promise<NodeMetadata>;
  /**
   * The end of node `id`'s serial console output since it last started (`''` when it printed
   * nothing yet), at most `tailBytes` (default the provider's): `NOT_FOUND` for an unknown node,
   * `UNSUPPORTED` when the provider keeps no console log (its optional `readNodeConsole`).
   */
  readNodeConsole(id: string, options?: { readonly tailBytes?: number }): Promise<string>;
  /**
   * The login vmkit stored for the node (jclouds' "store credentials"): its user and the private
   * key vmkit made for its group, or `undefined`. Secrets never appear in `NodeMetadata`, logs or records.
   */
  getNodeCredentials(id: string): Promise<LoginCredentials | undefined>;
  /**
   * Aborts running builds, destroys this service's ephemeral nodes when `ephemeralNodes.destroyOnClose`
   * is set, gives up its owner lease (its ephemeral nodes are reaped later otherwise) and closes
   * the provider; idempotent.
   */
  close(): Promise<void>;
}
