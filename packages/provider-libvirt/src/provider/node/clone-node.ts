import { isIPv6 } from 'node:net';
import type { OperationOptions } from '@vmkit/core/spi';
import {
  type CloneSpec,
  emitProgress,
  GROWING_VOLUME_FLOOR_BYTES,
  invalidArgument,
  type NodeWarmOutcome,
  newNodeRecord,
  type SpaceNeed,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core/spi';
import type { DomainHandle, StorageVolHandle } from '../../client/handles.js';
import { wasInterrupted } from '../../client/retry-safety.js';
import { alreadyExists } from '../../errors/libvirt-error.js';
import { assertHostBridges } from '../host/host-interfaces.js';
import { ensureNicNetworks } from '../host/host-networks.js';
import type { LibvirtContext, LibvirtMasterData } from '../libvirt-context.js';
import { checkLibvirtMasterRef } from '../master/master-ref-check.js';
import { buildDomainXml, type DomainDisk } from '../xml/domain-xml.js';
import { createDataVolumes } from './data-volumes.js';
import { domainFirmware } from './domain-firmware.js';
import { removeDomain } from './domain-removal.js';
import { nodeBoot } from './node-boot.js';
import { nodeConsoleVolume } from './node-console.js';
import { type LibvirtNodeExt, type LibvirtNodeRecord, renderNodeMetadata } from './node-metadata.js';

const GiB = 1024 ** 3;
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** How a warm clone differs from a cold one (see `warm/clone-from-state.ts`). */
export interface WarmCloneDisk {
  /** Path of the warm state's disk, the base of the node's overlay instead of the master. */
  readonly basePath: string;
  /** The node's own VM generation id. */
  readonly genid: string;
}

/** What a node of a warm call records (see `NodeMetadata.warm`). */
export interface WarmCloneRecord {
  /** Resumed from the state, or booted cold and why; kept in the domain's metadata. */
  readonly outcome: NodeWarmOutcome;
  /** The state's disk and the node's generation id, when resumed. */
  readonly disk?: WarmCloneDisk;
}

/**
 * Creates a node's domain (not started): a qcow2 overlay over the master (or a full copy), the
 * config drive volume, and the domain definition carrying vmkit's metadata. Whatever it made is
 * removed again if any step fails or the signal fires. With `warmClone`, the record keeps its outcome
 * and, with `warmClone.disk`, the overlay is over the warm state's disk and the domain has the given
 * generation id; a warm template gets a generation id.
 */
export async function cloneLibvirtNode(
  ctx: LibvirtContext,
  spec: CloneSpec,
  options: OperationOptions = {},
  warmClone?: WarmCloneRecord,
): Promise<{ dom: DomainHandle; meta: LibvirtNodeRecord }> {
  const warm = warmClone?.disk;
  if (!NODE_NAME.test(spec.name))
    throw invalidArgument('name', 'must be 1-63 letters, digits, ".", "_" or "-"');
  assertNoIpv6Forwards(spec);
  if (spec.sharedFolders?.length && !ctx.realGuests) {
    throw new VmkitError(
      'UNSUPPORTED',
      `sharedFolders: domain type ${ctx.domainType} runs no guest to share folders with (virtiofs needs QEMU)`,
      { details: { field: 'sharedFolders' } },
    );
  }
  const domName = `${ctx.options.namePrefix}${spec.name}`;
  const progress = (fraction: number, message: string) =>
    emitProgress(options.onProgress, {
      phase: 'clone',
      node: spec.name,
      imageId: spec.imageId,
      fraction,
      message,
    });
  throwIfAborted(options.signal, `clone of ${spec.name}`);
  if (await domainExists(ctx, domName))
    throw new VmkitError('CONFLICT', `a node named ${spec.name} already exists`);
  // Defence in depth: only a reference naming vmkit's own master volumes is cloned from; any
  // other names no master of this provider (NOT_FOUND, the rule it broke in the message).
  const master = checkedMaster(ctx, spec);
  const masterVolName = master.volume;
  const masterVol = await ctx.storage.find(masterVolName);
  if (!masterVol)
    throw new VmkitError(
      'NOT_FOUND',
      `master volume ${masterVolName} does not exist in pool ${ctx.storage.name}`,
    );
  await assertHostBridges(ctx.client, spec.network.nics);
  await ctx.storage.assertFits(await cloneNeeds(ctx, spec, domName, master, masterVol));
  const nics = await ensureNicNetworks(ctx, spec.network.nics);
  const created: string[] = [];
  let defining = false;
  try {
    const disks: DomainDisk[] = [];
    if (master?.boot === 'cdrom') {
      // A live boot ISO: the node boots the master's ISO, shared read-only, and has no disk.
      disks.push({ pool: ctx.storage.name, volume: masterVolName, format: 'raw', role: 'cdrom' });
      progress(0.4, 'boot ISO attached');
    } else {
      disks.push(await cloneDisk(ctx, spec, domName, master, masterVol, created, warm?.basePath));
      progress(0.4, spec.linked ? 'linked clone created' : 'full copy created');
    }
    throwIfAborted(options.signal, `clone of ${spec.name}`);
    if (spec.configDrive) {
      const { buildConfigDrive } = await import('@vmkit/imaging');
      const image = await buildConfigDrive(spec.configDrive);
      const vfat = spec.configDrive.filesystem === 'vfat' && spec.configDrive.format !== 'ovf';
      const driveName = `${domName}-config.${vfat ? 'img' : 'iso'}`;
      await ctx.storage.createWithData(driveName, image, options.signal ? { signal: options.signal } : {});
      created.push(driveName);
      disks.push({
        pool: ctx.storage.name,
        volume: driveName,
        format: 'raw',
        role: vfat ? 'disk' : 'cdrom',
        readonly: vfat,
      });
      progress(0.7, 'config drive attached');
    }
    const nvram = await cloneNvram(ctx, spec, domName, master, created);
    if (spec.dataVolumes?.length) {
      disks.push(...(await createDataVolumes(ctx, spec.dataVolumes, domName, created, options, spec.name)));
      progress(0.8, `${spec.dataVolumes.length} data volume(s) attached`);
    }
    throwIfAborted(options.signal, `clone of ${spec.name}`);
    // A real guest's console is kept in the pool (removed with the node) for readNodeConsole.
    const serialLog = ctx.realGuests && !warm ? nodeConsoleVolume(domName) : undefined;
    if (serialLog) created.push(serialLog);
    const meta = newNodeRecord<LibvirtNodeExt>(
      { ...spec, network: { nics } },
      {
        master: masterVolName,
        linkedClone: spec.linked,
        ext: { volumes: [...created] },
        ...(warmClone ? { warm: warmClone.outcome } : {}),
      },
    );
    const xml = buildDomainXml({
      name: domName,
      type: ctx.domainType,
      machine: ctx.options.machine,
      arch: ctx.arch,
      memoryMiB: spec.hardware.ramMiB,
      vcpus: spec.hardware.cores,
      boot: await nodeBoot(ctx, master),
      ...(nvram ? { firmware: await domainFirmware(ctx, nvram) } : {}),
      disks,
      nics,
      qemuCommandLine: ctx.qemuCommandLine,
      ...(spec.sharedFolders?.length ? { sharedFolders: spec.sharedFolders } : {}),
      metadata: renderNodeMetadata(meta),
      ...(warm ? { genid: warm.genid } : spec.warmTemplate ? { genid: 'auto' } : {}),
      ...(serialLog ? { serialLog: `${await ctx.storage.targetPath()}/${serialLog}` } : {}),
    });
    defining = true;
    const dom = await ctx.client.domains.defineXml(xml).catch(async (error: unknown) => {
      // Someone else defined the name since the check: theirs, not ours to remove.
      if (alreadyExists(error)) {
        defining = false;
        throw new VmkitError('CONFLICT', `a node named ${spec.name} already exists`, { cause: error });
      }
      // The answer was lost with the connection: look whether the definition happened (the name
      // was free at the start, and is this node's own).
      if (wasInterrupted(error)) {
        const made = await ctx.client.domains.lookupByName(domName).catch(() => undefined);
        if (made) return made;
      }
      throw error;
    });
    progress(1, 'domain defined');
    return { dom, meta };
  } catch (error) {
    throw await rollBackClone(ctx, spec.name, domName, defining, created, error);
  }
}

/**
 * Removes what a failed clone made and gives the error to throw: the clone's own failure when
 * everything went, or a `PROVIDER` error naming what is left (`details.leftovers`) when the
 * removal failed too (the daemon stayed out of reach longer than the client's reconnect policy).
 * Once the definition was sent the domain may exist even if the reply never came: removal is
 * idempotent, so it runs whatever happened.
 */
async function rollBackClone(
  ctx: LibvirtContext,
  name: string,
  domName: string,
  defining: boolean,
  created: readonly string[],
  error: unknown,
): Promise<unknown> {
  const left: string[] = [];
  let last: unknown;
  if (defining) {
    await removeDomain(ctx, domName).catch((e: unknown) => {
      left.push(`domain ${domName}`);
      last = e;
    });
  }
  for (const v of [...created].reverse()) {
    await ctx.storage.delete(v).catch((e: unknown) => {
      left.push(`volume ${v}`);
      last = e;
    });
  }
  if (left.length === 0) return error;
  return new VmkitError(
    'PROVIDER',
    `clone of ${name} failed (${(error as Error).message}) and could not be rolled back; left: ${left.join(', ')} ` +
      `(${(last as Error).message})`,
    { cause: error, retryable: false, fault: 'environment', details: { node: name, leftovers: left } },
  );
}

/**
 * QEMU's `hostfwd` takes IPv4 addresses only (an IPv6 one renders an option QEMU refuses), so
 * IPv6 port forwards are refused before any work is done.
 */
function assertNoIpv6Forwards(spec: CloneSpec): void {
  for (const nic of spec.network.nics) {
    for (const f of nic.portForwards) {
      for (const [field, ip] of [
        ['hostIp', f.hostIp],
        ['guestIp', f.guestIp],
      ] as const) {
        if (ip !== undefined && isIPv6(ip)) {
          throw new VmkitError(
            'UNSUPPORTED',
            `port forward ${f.name ?? `${f.protocol}-${f.guestPort}`} of NIC ${nic.slot}: ${field} ${ip} is IPv6, ` +
              'which QEMU user networking cannot forward (use an IPv4 address)',
            { details: { field: `network.nics[${nic.slot}].portForwards.${field}` } },
          );
        }
      }
    }
  }
}

function checkedMaster(ctx: LibvirtContext, spec: CloneSpec): LibvirtMasterData {
  try {
    return checkLibvirtMasterRef(ctx.options, spec.master, undefined, { refOnly: true });
  } catch (error) {
    throw new VmkitError(
      'NOT_FOUND',
      `master ${spec.master.id} is not a master of this provider: ${(error as Error).message}`,
      {
        cause: error,
        details: { master: spec.master.id },
      },
    );
  }
}

async function domainExists(ctx: LibvirtContext, name: string): Promise<boolean> {
  try {
    await ctx.client.domains.lookupByName(name);
    return true;
  } catch (error) {
    if (VmkitError.is(error, 'NOT_FOUND')) return false;
    throw error;
  }
}

/**
 * What a clone writes into the pool, for the early free-space check: a linked clone's overlay
 * grows as the guest writes ({@link GROWING_VOLUME_FLOOR_BYTES}); a full copy and every data
 * volume made from content are written in full (their capacities). The config drive (a few
 * hundred KiB) is left out.
 */
async function cloneNeeds(
  ctx: LibvirtContext,
  spec: CloneSpec,
  domName: string,
  master: LibvirtMasterData,
  masterVol: StorageVolHandle,
): Promise<SpaceNeed[]> {
  const needs: SpaceNeed[] = [];
  const disk = `volume ${domName}.qcow2`;
  if (master.boot !== 'cdrom') {
    if (spec.linked) needs.push({ what: `overlay ${disk}`, bytes: GROWING_VOLUME_FLOOR_BYTES });
    else
      needs.push({
        what: `full copy ${disk}`,
        bytes: (await ctx.client.storage.volGetInfo(masterVol)).capacity,
      });
  }
  for (const [i, v] of (spec.dataVolumes ?? []).entries()) {
    if (v.filesystem !== undefined || v.content !== undefined)
      needs.push({ what: `data volume ${domName}-data${i}.img`, bytes: v.sizeMiB * 1024 * 1024 });
  }
  return needs;
}

/** The node's own disk: a linked qcow2 clone of the master volume (or of `basePath`), or a full copy. */
async function cloneDisk(
  ctx: LibvirtContext,
  spec: CloneSpec,
  domName: string,
  master: LibvirtMasterData | undefined,
  masterVol: StorageVolHandle,
  created: string[],
  basePath?: string,
): Promise<DomainDisk> {
  const diskName = `${domName}.qcow2`;
  const capacityBytes = Math.max(master?.capacityBytes ?? 0, spec.hardware.diskGiB * GiB);
  if (spec.linked || basePath !== undefined) {
    const backingPath = basePath ?? (await ctx.storage.path(masterVol));
    await ctx.storage.create({
      name: diskName,
      capacityBytes,
      format: 'qcow2',
      backing: { path: backingPath, format: basePath !== undefined ? 'qcow2' : (master?.format ?? 'qcow2') },
    });
  } else {
    await ctx.storage.copy(diskName, masterVol, 'qcow2');
  }
  created.push(diskName);
  return { pool: ctx.storage.name, volume: diskName, format: 'qcow2', role: 'disk' };
}

/**
 * An EFI node's own NVRAM (`<domain>-VARS.fd`): a copy of its master's, so it starts with the boot
 * entries the master's build wrote; owned by the node (deleted with it and by a failed clone's
 * rollback). `undefined` for a BIOS node. A node whose firmware differs from its master's is
 * refused (core refuses it first): the master's disk was installed for its own firmware.
 */
async function cloneNvram(
  ctx: LibvirtContext,
  spec: CloneSpec,
  domName: string,
  master: LibvirtMasterData,
  created: string[],
): Promise<string | undefined> {
  const masterFirmware = master.nvramVolume === undefined ? 'bios' : 'efi';
  const firmware = spec.hardware.firmware ?? masterFirmware;
  if (firmware !== masterFirmware)
    throw invalidArgument(
      'hardware.firmware',
      `must be the master's firmware ${masterFirmware} (got ${firmware}): its disk was installed for ${masterFirmware}`,
    );
  if (master.nvramVolume === undefined) return undefined;
  const source = await ctx.storage.find(master.nvramVolume);
  if (!source)
    throw new VmkitError(
      'NOT_FOUND',
      `master NVRAM volume ${master.nvramVolume} does not exist in pool ${ctx.storage.name}`,
    );
  const name = `${domName}-VARS.fd`;
  await ctx.storage.copy(name, source, 'raw');
  created.push(name);
  return name;
}
