import { rm } from 'node:fs/promises';
import type { BoundNic, OperationOptions } from '@vmkit/core/spi';
import {
  type CloneSpec,
  invalidArgument,
  newNodeRecord,
  type ProviderNode,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core/spi';
import * as vbox from 'virtualbox-soap';
import { mediumAttachments, waitProgress, wrap } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { hasResult, isNotFound, VBOX_RESULT } from '../../soap/errors.js';
import { withMachineLock } from '../../soap/machine-lock.js';
import { assertMachineFolderFits, cloneNeeds } from '../host/machine-folder-space.js';
import { openDvd } from '../master/boot-iso-master.js';
import { setFirmware } from '../master/master-machine.js';
import {
  CONTROLLER,
  createNamedMachine,
  lockOptions,
  powerOptions,
  type VboxContext,
} from '../virtualbox-context.js';
import { writeConfigDriveFile } from './config-drive-file.js';
import { removeMachine } from './machine-removal.js';
import { describeNode, encodeNodeMeta, NODE_META_KEY, type StoredNodeMeta } from './node-metadata.js';
import { createSharedFolders } from './shared-folders.js';

const ATTACHMENT: Record<BoundNic['attachment'], string> = {
  nat: 'NAT',
  bridged: 'Bridged',
  hostOnly: 'HostOnly',
  internal: 'Internal',
};

/** Checks what can be checked before anything is made. */
export function validateCloneSpec(spec: CloneSpec): void {
  if ((spec.dataVolumes?.length ?? 0) > 0)
    throw new VmkitError(
      'UNSUPPORTED',
      'dataVolumes: the VirtualBox provider does not attach data volumes yet',
      {
        details: { field: 'dataVolumes' },
      },
    );
  if (spec.configDrive && (spec.configDrive.filesystem ?? 'iso9660') !== 'iso9660')
    throw new VmkitError(
      'UNSUPPORTED',
      'configDrive.filesystem: VirtualBox attaches config drives as DVDs, so only iso9660',
      {
        details: { field: 'configDrive.filesystem' },
      },
    );
  for (const [i, nic] of spec.network.nics.entries()) {
    if (nic.slot < 0 || nic.slot > 7)
      throw invalidArgument(`network.nics[${i}].slot`, 'must be 0-7 on VirtualBox');
    if (nic.attachment === 'bridged' && !nic.hostInterface)
      throw invalidArgument(
        `network.nics[${i}].hostInterface`,
        'a bridged NIC needs the host interface to bridge to',
      );
    if (nic.attachment === 'hostOnly' && !nic.hostInterface && !nic.network)
      throw invalidArgument(
        `network.nics[${i}].hostInterface`,
        'a host-only NIC needs a host-only interface (e.g. vboxnet0)',
      );
    if (nic.attachment !== 'nat' && nic.portForwards.length > 0)
      throw invalidArgument(`network.nics[${i}].portForwards`, 'port forwards need a NAT NIC');
  }
}

async function checkHostInterfaces(api: VboxApi, spec: CloneSpec): Promise<void> {
  const wanted = spec.network.nics
    .map((nic, i) => ({
      i,
      name:
        nic.attachment === 'bridged' || nic.attachment === 'hostOnly'
          ? (nic.hostInterface ?? nic.network)
          : undefined,
    }))
    .filter((x): x is { i: number; name: string } => x.name !== undefined);
  if (wanted.length === 0) return;
  const host = await api.vbox.getHost();
  for (const { i, name } of wanted) {
    try {
      await host.findHostNetworkInterfaceByName(name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      throw invalidArgument(
        `network.nics[${i}].hostInterface`,
        `the VirtualBox host has no network interface named '${name}'`,
      );
    }
  }
}

/**
 * Memory, CPUs and NICs (NAT rules with the leased host ports), set on the clone before it is
 * registered: an unregistered machine is mutable without a session, and `registerMachine` saves
 * its settings, so no lock, session machine or `saveSettings` is needed.
 */
async function configure(m: vbox.IMachine, spec: CloneSpec, fresh: boolean): Promise<void> {
  // A clone has its master's memory and CPUs: set them only when the node asks for others.
  const master = (fresh ? {} : (spec.master.data ?? {})) as { ramMiB?: number; cores?: number };
  if (master.ramMiB !== spec.hardware.ramMiB) await m.setMemorySize(spec.hardware.ramMiB);
  if (master.cores !== spec.hardware.cores) await m.setCPUCount(spec.hardware.cores);
  // A clone has its master's firmware (core refuses another); a live node is a new machine.
  await setFirmware(m, spec.hardware.firmware ?? 'bios');
  for (const nic of spec.network.nics) {
    const adapter = await m.getNetworkAdapter(nic.slot);
    if (nic.slot !== 0 || fresh) await adapter.setEnabled(true);
    await adapter.setAttachmentType(ATTACHMENT[nic.attachment] as vbox.NetworkAttachmentType);
    await adapter.setMACAddress(nic.mac.replace(/:/g, '').toUpperCase());
    if (nic.attachment === 'bridged') await adapter.setBridgedInterface(nic.hostInterface ?? '');
    if (nic.attachment === 'hostOnly')
      await adapter.setHostOnlyInterface(nic.hostInterface ?? nic.network ?? '');
    if (nic.attachment === 'internal') await adapter.setInternalNetwork(nic.network ?? 'intnet');
    if (nic.portForwards.length > 0) {
      const nat = await adapter.getNATEngine();
      for (const f of nic.portForwards)
        await nat.addRedirect(
          f.name,
          (f.protocol === 'udp' ? 'UDP' : 'TCP') as vbox.NATProtocol,
          f.hostIp,
          f.hostPort,
          f.guestIp ?? '',
          f.guestPort,
        );
    }
  }
}

/**
 * The DVDs of a registered node, under a write lock (VirtualBox attaches media only to registered
 * machines): a live node's boot ISO at 0/0 and the config drive at 1/0.
 */
async function attachDvds(api: VboxApi, m: vbox.IMachine, drive?: string, bootIso?: string): Promise<void> {
  if (bootIso) await m.attachDevice(CONTROLLER, 0, 0, 'DVD' as vbox.DeviceType, await openDvd(api, bootIso));
  if (drive) await m.attachDevice(CONTROLLER, 1, 0, 'DVD' as vbox.DeviceType, await openDvd(api, drive));
}

/** Removes what a failed clone made: the registered machine, or an unregistered one's cloned disks. */
async function rollback(
  ctx: VboxContext,
  api: VboxApi,
  target: vbox.IMachine,
  registered: boolean,
  drive?: string,
): Promise<void> {
  if (registered)
    await removeMachine(ctx.conn, api, target, {
      ...powerOptions(ctx, undefined, 0),
      ownedDvds: drive ? [drive] : [],
    });
  else {
    const media = (await mediumAttachments(target)).filter((a) => a.type === 'HardDisk' && a.medium);
    await waitProgress(
      await target.deleteConfig(media.map((a) => wrap(vbox.IMedium, target, a.medium))),
      'deleting a half-made clone',
    );
  }
}

/**
 * Creates a node: `IMachine.cloneTo` from the master's snapshot machine (`MachineState`, `Link`
 * for linked clones); memory, CPUs and NICs (NAT rules with the leased host ports) on the still
 * unregistered clone; register (which saves its settings); under one write lock the
 * config drive (a private file, see {@link writeConfigDriveFile}) as a DVD and the shared folders
 * (see {@link createSharedFolders}); last vmkit's metadata, which makes it a node. Anything made is removed
 * again when a step fails or the signal fires. With `source` a boot ISO path (a `bootIso`
 * master) the node is a new machine instead: an IDE controller, the ISO as its boot DVD, no disk.
 */
export async function cloneVboxNode(
  ctx: VboxContext,
  api: VboxApi,
  source: vbox.IMachine | { readonly bootIso: string },
  spec: CloneSpec,
  options: OperationOptions,
): Promise<{ node: ProviderNode; machine: vbox.IMachine; meta: StoredNodeMeta }> {
  const { signal } = options;
  const name = `${ctx.options.namePrefix}${spec.name}`;
  await checkHostInterfaces(api, spec);
  await assertMachineFolderFits(ctx, await cloneNeeds(spec, name));
  throwIfAborted(signal, `clone of ${spec.name}`);
  let target: vbox.IMachine;
  try {
    target = await createNamedMachine(ctx, api, name);
  } catch (error) {
    if (hasResult(error, VBOX_RESULT.FILE_ERROR))
      throw new VmkitError('CONFLICT', `a VirtualBox machine named ${name} already exists`, { cause: error });
    throw error;
  }
  let drive: string | undefined;
  const made = newNodeRecord(spec, {
    master: spec.master.id,
    linkedClone: spec.linked && !('bootIso' in source),
    ext: {},
  });
  const bootIso = 'bootIso' in source ? source.bootIso : undefined;
  let registered = false;
  let cloning: vbox.IProgress | undefined;
  try {
    if (!('cloneTo' in source)) {
      // A live node: an IDE controller for its DVDs, booting from the DVD, no disk of its own.
      await target.addStorageController(CONTROLLER, 'IDE' as vbox.StorageBus);
      await target.setBootOrder(1, 'DVD' as vbox.DeviceType);
    } else {
      const options = spec.linked ? ['Link' as vbox.CloneOptions] : [];
      cloning = await source.cloneTo(target, 'MachineState' as vbox.CloneMode, options);
      await waitProgress(cloning, `cloning ${spec.name}`, signal);
    }
    await configure(target, spec, bootIso !== undefined);
    throwIfAborted(signal, `clone of ${spec.name}`);
    try {
      await api.vbox.registerMachine(target);
    } catch (error) {
      if (hasResult(error, VBOX_RESULT.OBJECT_IN_USE))
        throw new VmkitError('CONFLICT', `a VirtualBox machine named ${name} already exists`, {
          cause: error,
        });
      throw error;
    }
    registered = true;
    if (spec.configDrive)
      drive = await writeConfigDriveFile(
        ctx.options.machineFolder,
        `${name}-config`,
        spec.configDrive,
        signal,
      );
    const meta: StoredNodeMeta = drive ? { ...made, ext: { configDrive: drive } } : made;
    const shares = spec.sharedFolders ?? [];
    if (drive || bootIso || shares.length > 0)
      await withMachineLock(
        ctx.conn,
        api,
        target,
        async (m) => {
          await attachDvds(api, m, drive, bootIso);
          await createSharedFolders(m, shares);
        },
        lockOptions(ctx, signal),
      );
    // Last: a registered machine without vmkit's metadata is half-made (removed at start-up).
    // Extra data needs no session: VirtualBox saves it on the registered machine at once.
    await target.setExtraData(NODE_META_KEY, encodeNodeMeta(meta));
    return { node: describeNode(name, meta, 'stopped', []), machine: target, meta };
  } catch (error) {
    // An abort stops our waiting, not the server's cloning: let it end before removing its disks.
    await cloning?.waitForCompletion(-1).catch(() => {});
    await rollback(ctx, api, target, registered, drive).catch(() => {});
    if (drive) await rm(drive, { force: true });
    throw error;
  }
}
