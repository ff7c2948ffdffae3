import { join } from 'node:path';
import type { ProviderCapabilities } from '@vmkit/core/spi';
import type { ProviderBootIsoCache } from '@vmkit/imaging';
import type * as vbox from 'virtualbox-soap';
import type { VboxApi, VboxConnection } from '../soap/connection.js';
import { VBOX_NODE_IMAGE_CAPABILITIES } from './node/node-image-capabilities.js';
import { VBOX_SNAPSHOT_CAPABILITIES } from './node/snapshot-capabilities.js';
import type { ResolvedVirtualBoxProviderOptions } from './virtualbox-provider-options.js';

/** What the provider's parts share. */
export interface VboxContext {
  readonly conn: VboxConnection;
  readonly options: ResolvedVirtualBoxProviderOptions;
  /** Where ISOs are remastered with kernel parameters, once per ISO and parameters. */
  readonly bootIsos: ProviderBootIsoCache;
}

/** The storage controller vmkit gives masters (and so their clones): disk at 0/0, DVD at 1/0. */
export const CONTROLLER = 'IDE';

/** The snapshot linked clones are made from. */
export const MASTER_SNAPSHOT = 'vmkit-base';

/** Lock options from the provider options. */
export function lockOptions(ctx: VboxContext, signal?: AbortSignal) {
  return { retries: ctx.options.lockRetries, ...(signal ? { signal } : {}) };
}

/** Power-off options from the provider options. */
export function powerOptions(ctx: VboxContext, signal?: AbortSignal, graceMs = ctx.options.stopGraceMs) {
  return {
    graceMs,
    pollMs: ctx.options.pollIntervalMs,
    retries: ctx.options.lockRetries,
    ...(signal ? { signal } : {}),
  };
}

/** The settings file of a machine vmkit makes. */
export function settingsFile(ctx: VboxContext, name: string): string {
  return join(ctx.options.machineFolder, name, `${name}.vbox`);
}

/**
 * A new, unregistered machine named `name` in vmkit's machine folder, of the configured OS type
 * (`IVirtualBox.createMachine` with vmkit's settings file and no groups, flags or encryption).
 */
export function createNamedMachine(ctx: VboxContext, api: VboxApi, name: string): Promise<vbox.IMachine> {
  return api.vbox.createMachine(settingsFile(ctx, name), name, [], ctx.options.osTypeId, '', '', '', '');
}

/** The machine name of a master. */
export function masterMachineName(prefix: string, masterName: string): string {
  return `${prefix}m-${masterName}`;
}

/**
 * What the VirtualBox provider can do. Housekeeping (`listArtefacts`, `removeArtefact`, disk
 * usage) and master transfer (`exportMasterDisk`, `importMasterDisk`) are optional SPI methods it
 * has, not flags; no `kernel` source (no direct kernel boot) and no data volumes yet. The guest
 * agent is Guest Control of the Guest Additions (it needs a login with a password).
 */
export const VBOX_CAPABILITIES: ProviderCapabilities = Object.freeze({
  linkedClones: true,
  attachments: Object.freeze(['nat', 'bridged', 'hostOnly', 'internal'] as const),
  portForwarding: true,
  configDriveFormats: Object.freeze(['nocloud', 'openstack', 'ovf'] as const),
  sources: Object.freeze(['disk', 'iso', 'bootIso'] as const),
  suspend: true,
  dataVolumes: false,
  guestAgent: true,
  snapshots: VBOX_SNAPSHOT_CAPABILITIES,
  imageFromNode: VBOX_NODE_IMAGE_CAPABILITIES,
  firmware: Object.freeze(['bios', 'efi'] as const),
  // Permanent shared folders, mounted by the config drive with the Guest Additions' vboxsf.
  sharedFolders: 'vboxsf',
});
