import { execFile } from 'node:child_process';
import { open, rm, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { promisify } from 'node:util';
import { inspectImage } from '@vmkit/imaging';
import { machine } from './handlers-machine.js';
import type { SimCall, SimHandler } from './sim-call.js';
import { ResultCode, runtime, violation } from './sim-fault.js';
import { copySettings, type MachineView, newMac, type SimMachine, SimMedium } from './sim-model.js';
import type { SimWorld } from './sim-world.js';

const DISK_FORMATS: Record<string, string> = { '.vdi': 'VDI', '.vmdk': 'VMDK', '.vhd': 'VHD' };

/** qemu-img's names of VirtualBox's disk formats (the simulator writes base disks with it). */
const QEMU_FORMATS: Record<string, string> = { VDI: 'vdi', VMDK: 'vmdk', VHD: 'vpc' };

/**
 * Bytes a simulated guest's write adds to a medium the simulator holds no file for (a linked
 * clone's or snapshot's differencing disk): what `IMedium.getSize` reports for such media.
 */
export const SIM_BYTES_PER_WRITE = 1024 * 1024;

/** VirtualBox never writes a new medium over a file that is there. */
async function assertNoFile(location: string): Promise<void> {
  if (await stat(location).catch(() => undefined))
    throw runtime(ResultCode.VBOX_E_FILE_ERROR, `Medium '${location}' exists already (VERR_ALREADY_EXISTS)`);
}

/** Writes an empty dynamically growing disk file, as VirtualBox's `createBaseStorage` does. */
async function writeBaseStorage(m: SimMedium): Promise<void> {
  await assertNoFile(m.location);
  await promisify(execFile)('qemu-img', [
    'create',
    '-q',
    '-f',
    QEMU_FORMATS[m.format] ?? 'vdi',
    m.location,
    String(m.logicalSize),
  ]);
}

/** Checks a disk file's format from its header, as VirtualBox's storage backends do. */
async function probeDisk(location: string): Promise<string | undefined> {
  const fh = await open(location, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(512);
    await fh.read(head, 0, 512, 0);
    if (head.readUInt32LE(64) === 0xbeda107f) return 'VDI';
    if (
      head.subarray(0, 4).toString('latin1') === 'KDMV' ||
      head.toString('latin1').includes('# Disk DescriptorFile')
    )
      return 'VMDK';
    if (head.subarray(0, 8).toString('latin1') === 'conectix') return 'VHD';
    if (size >= 512) {
      const tail = Buffer.alloc(8);
      await fh.read(tail, 0, 8, size - 512);
      if (tail.toString('latin1') === 'conectix') return 'VHD';
    }
    return undefined;
  } finally {
    await fh.close();
  }
}

function medium(c: SimCall, name = '_this'): SimMedium {
  const m = c.obj<SimMedium>(name, 'IMedium');
  if (!m.registered)
    throw violation(ResultCode.VBOX_E_OBJECT_NOT_FOUND, `Medium '${m.location}' is not registered`);
  return m;
}

function assertDeletable(
  world: SimWorld,
  m: SimMedium,
  gone = new Set<SimMedium>(),
  owner?: SimMachine,
): void {
  const children = [...m.children].filter((x) => !gone.has(x));
  if (children.length > 0)
    throw violation(
      ResultCode.VBOX_E_OBJECT_IN_USE,
      `Medium '${m.location}' has ${children.length} child media`,
    );
  const users = world.usersOf(m).filter((x) => x !== owner);
  if (users.length > 0)
    throw violation(
      ResultCode.VBOX_E_OBJECT_IN_USE,
      `Medium '${m.location}' is attached to '${users[0]?.name}'`,
    );
}

async function deleteMedium(world: SimWorld, m: SimMedium): Promise<void> {
  world.removeMedium(m, true);
  if (!m.virtual) await rm(m.location, { force: true });
}

/** The media registry: opening, creating, closing, deleting; unregistering machines and clones. */
export const mediaHandlers: Record<string, SimHandler> = {
  IVirtualBox_getHardDisks(c) {
    c.self('IVirtualBox');
    return c.world.media.filter((m) => m.registered && m.deviceType === 'HardDisk').map((m) => c.ref(m));
  },
  IVirtualBox_getDVDImages(c) {
    c.self('IVirtualBox');
    return c.world.media
      .filter((m) => m.registered && m.deviceType === 'DVD' && !m.virtual)
      .map((m) => c.ref(m));
  },
  async IVirtualBox_openMedium(c) {
    c.self('IVirtualBox');
    const [location, type] = [c.str('location'), c.str('deviceType')];
    const known = c.world.mediumAt(location);
    if (known) {
      if (known.deviceType !== type)
        throw violation(ResultCode.E_INVALIDARG, `Medium '${location}' is registered as ${known.deviceType}`);
      return c.ref(known);
    }
    const info = await stat(location).catch(() => undefined);
    if (!info?.isFile())
      throw runtime(ResultCode.VBOX_E_FILE_ERROR, `Could not find file for the medium '${location}'`);
    let format = 'RAW';
    if (type === 'HardDisk') {
      const probed = await probeDisk(location);
      if (!probed || DISK_FORMATS[extname(location).toLowerCase()] === undefined)
        throw runtime(
          ResultCode.VBOX_E_IPRT_ERROR,
          `Could not get the storage format of the medium '${location}' (VERR_NOT_SUPPORTED)`,
        );
      format = probed;
    } else if (type !== 'DVD')
      throw violation(ResultCode.E_INVALIDARG, `Device type ${type} is not simulated`);
    const m = c.world.addMedium(new SimMedium(location, format, type, false));
    // A disk's capacity is in its header (what VirtualBox's storage backend reads); an ISO's is its size.
    m.logicalSize =
      type === 'HardDisk'
        ? ((await inspectImage(location).catch(() => undefined))?.virtualSize ?? info.size)
        : info.size;
    return c.ref(m);
  },
  IVirtualBox_createMedium(c) {
    c.self('IVirtualBox');
    const [format, location, type] = [c.str('format'), c.str('location'), c.str('aDeviceTypeType')];
    if (type !== 'HardDisk') throw violation(ResultCode.E_INVALIDARG, 'Only hard disks can be created');
    if (!['VDI', 'VMDK', 'VHD'].includes(format.toUpperCase()))
      throw violation(ResultCode.VBOX_E_OBJECT_NOT_FOUND, `Invalid medium storage format '${format}'`);
    if (c.world.mediumAt(location))
      throw runtime(ResultCode.VBOX_E_FILE_ERROR, `Medium '${location}' already exists`);
    // A real file once its storage is created (see writeBaseStorage), so it is deleted with it.
    const m = new SimMedium(location, format.toUpperCase(), 'HardDisk', false);
    m.state = 'NotCreated';
    m.registered = false;
    return c.ref(m);
  },
  IMedium_createBaseStorage(c) {
    const m = c.obj<SimMedium>('_this', 'IMedium');
    if (m.state !== 'NotCreated')
      throw violation(ResultCode.VBOX_E_INVALID_OBJECT_STATE, `Medium '${m.location}' is already created`);
    m.logicalSize = c.int('logicalSize');
    return c.ref(
      c.world.task(`Creating ${m.location}`, async () => {
        await writeBaseStorage(m);
        m.state = 'Created';
        m.registered = true;
        c.world.addMedium(m);
      }),
    );
  },
  IMedium_cloneToBase(c) {
    const source = medium(c);
    const target = c.obj<SimMedium>('target', 'IMedium');
    if (target.state !== 'NotCreated')
      throw violation(
        ResultCode.VBOX_E_INVALID_OBJECT_STATE,
        `Target medium '${target.location}' is not in NotCreated state`,
      );
    // A running machine holds its current disk locked for writing.
    const holder = c.world.machines.find(
      (m) =>
        (m.state === 'Running' || m.state === 'Paused') &&
        m.settings.attachments.some((a) => a.medium === source),
    );
    if (holder)
      throw runtime(
        ResultCode.VBOX_E_INVALID_OBJECT_STATE,
        `Medium '${source.location}' is locked for writing by the running machine '${holder.name}'`,
      );
    let root = source;
    let writes = source.writes;
    for (let p = source.parent; p; p = p.parent) {
      root = p;
      writes += p.writes;
    }
    target.logicalSize = root.logicalSize;
    return c.ref(
      c.world.task(`Cloning ${source.location} to ${target.location}`, async () => {
        // The whole chain in one base image: the root's file converted, the guest's writes carried.
        if (root.virtual) await writeBaseStorage(target);
        else {
          await assertNoFile(target.location);
          await promisify(execFile)('qemu-img', [
            'convert',
            '-q',
            '-O',
            QEMU_FORMATS[target.format] ?? 'vdi',
            root.location,
            target.location,
          ]);
        }
        target.writes = writes;
        target.state = 'Created';
        target.registered = true;
        c.world.addMedium(target);
      }),
    );
  },
  IMedium_getId: (c) => medium(c).id,
  IMedium_getLocation: (c) => c.obj<SimMedium>('_this', 'IMedium').location,
  IMedium_getState: (c) => c.obj<SimMedium>('_this', 'IMedium').state,
  IMedium_getFormat: (c) => medium(c).format,
  IMedium_getDeviceType: (c) => medium(c).deviceType,
  IMedium_getLogicalSize: (c) => medium(c).logicalSize,
  IMedium_getSize: (c) => mediumSize(medium(c)),
  IMedium_getParent: (c) => c.ref(medium(c).parent),
  IMedium_getChildren: (c) => [...medium(c).children].map((m) => c.ref(m)),
  IMedium_getMachineIds: (c) => c.world.usersOf(medium(c)).map((m) => m.id),
  IMedium_close(c) {
    const m = medium(c);
    assertDeletable(c.world, m);
    c.world.removeMedium(m, false);
  },
  IMedium_deleteStorage(c) {
    const m = medium(c);
    assertDeletable(c.world, m);
    return c.ref(
      c.world.task(`Deleting ${m.location}`, async () => {
        assertDeletable(c.world, m);
        await deleteMedium(c.world, m);
      }),
    );
  },
  IMachine_unregister(c) {
    const view = machine(c);
    const m = view.machine;
    if (view.kind !== 'plain' || !m.registered)
      throw violation(ResultCode.VBOX_E_INVALID_OBJECT_STATE, `Machine '${m.name}' is not registered`);
    if (m.locked)
      throw runtime(
        ResultCode.VBOX_E_INVALID_OBJECT_STATE,
        `Cannot unregister the machine '${m.name}' while it is locked`,
      );
    const mode = c.str('cleanupMode');
    if (mode === 'UnregisterOnly' && (m.snapshots.length > 0 || m.settings.attachments.some((a) => a.medium)))
      throw violation(ResultCode.VBOX_E_INVALID_OBJECT_STATE, `Machine '${m.name}' has media or snapshots`);
    const disks: SimMedium[] = [];
    const removable: SimMedium[] = [];
    for (const s of [...m.snapshots.map((x) => x.settings).reverse(), m.settings])
      for (const a of s.attachments) if (a.medium) (a.type === 'HardDisk' ? disks : removable).push(a.medium);
    for (const s of [m.settings, ...m.snapshots.map((x) => x.settings)]) s.attachments = [];
    m.snapshots.length = 0;
    m.registered = false;
    const unique = [...new Set(disks)].sort((a, b) => depth(b) - depth(a));
    if (mode === 'Full' || mode === 'DetachAllReturnHardDisksAndVMRemovable')
      unique.push(...new Set(removable.filter((r) => c.world.usersOf(r).length === 0)));
    return mode === 'DetachAllReturnNone' ? [] : unique.map((x) => c.ref(x));
  },
  IMachine_deleteConfig(c) {
    const view = machine(c);
    const m = view.machine;
    if (m.registered)
      throw violation(
        ResultCode.VBOX_E_INVALID_VM_STATE,
        `Cannot delete settings of the registered machine '${m.name}'`,
      );
    const list = c.list('media').map((ref) => c.target<SimMedium>(ref, 'IMedium'));
    const gone = new Set<SimMedium>();
    for (const x of list) {
      assertDeletable(c.world, x, gone, m);
      gone.add(x);
    }
    return c.ref(
      c.world.task(`Deleting ${m.name}`, async () => {
        for (const x of list) await deleteMedium(c.world, x);
        const i = c.world.machines.indexOf(m);
        if (i >= 0) c.world.machines.splice(i, 1);
        m.deleted = true;
      }),
    );
  },
  IMachine_cloneTo(c) {
    const source = machine(c);
    const target = c.obj<MachineView>('target', 'IMachine');
    const link = c.list('options').includes('Link');
    if (target.kind !== 'plain' || target.machine.registered)
      throw violation(ResultCode.E_INVALIDARG, 'The clone target must be a new, unregistered machine');
    if (c.str('mode') !== 'MachineState')
      throw violation(ResultCode.VBOX_E_NOT_SUPPORTED, `Clone mode ${c.str('mode')} is not simulated`);
    if (link && source.kind !== 'snapshot')
      throw violation(ResultCode.E_INVALIDARG, 'Linked clone can only be created from a snapshot');
    const settings = copySettings(source.settings);
    const folder = join(target.machine.settingsFile, '..');
    const work = () => {
      // The target was an object of a websession that is gone (vboxwebsrv restarted): released.
      if (target.machine.deleted)
        throw runtime(ResultCode.E_FAIL, `The clone target '${target.machine.name}' was released`);
      for (const a of settings.attachments) {
        if (a.type !== 'HardDisk' || !a.medium) continue;
        const name = `${target.machine.name}${link ? `-${a.port}${a.device}-diff` : `-disk${a.port}${a.device}`}.vdi`;
        const disk = new SimMedium(join(folder, name), 'VDI', 'HardDisk', true, link ? a.medium : undefined);
        disk.logicalSize = a.medium.logicalSize;
        a.medium = c.world.addMedium(disk);
      }
      for (const ad of settings.adapters) ad.mac = newMac();
      target.machine.settings = settings;
    };
    return c.ref(c.world.task(`Cloning ${source.machine.name}`, work));
  },
};

/**
 * What `IMedium.getSize` reports: the file's size for a medium with a file; for a differencing
 * disk the simulator holds no file for, {@link SIM_BYTES_PER_WRITE} per guest write.
 */
export async function mediumSize(m: SimMedium): Promise<number> {
  if (m.virtual) return m.writes * SIM_BYTES_PER_WRITE;
  return (await stat(m.location).catch(() => undefined))?.size ?? 0;
}

function depth(m: SimMedium): number {
  let d = 0;
  for (let p = m.parent; p; p = p.parent) d++;
  return d;
}
