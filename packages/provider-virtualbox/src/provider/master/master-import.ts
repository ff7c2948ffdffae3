import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OperationOptions } from '@vmkit/core/spi';
import {
  emitProgress,
  type MasterDiskImport,
  type MasterRef,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core/spi';
import { assertSafeImage, inspectImage } from '@vmkit/imaging';
import type * as vbox from 'virtualbox-soap';
import { assertMachineFolderFits } from '../host/machine-folder-space.js';
import { masterMachineName, type VboxContext } from '../virtualbox-context.js';
import { deleteMasterMachine, masterMachineHardware, ownDiskMasterRef } from './master-build.js';
import { registerMasterMachine, takeMasterSnapshot } from './master-machine.js';
import { prepareDisk } from './master-source.js';

/**
 * Adopts a master disk from a local file (a master another host built and shared): its headers
 * are inspected and refused by the image inspector's rules (qcow2 or raw only, the format as
 * claimed, no backing or data file) before qemu-img or VirtualBox read it; then it is converted to
 * `<machine>.vdi` in the machine folder and registered as a build of `masterName` would leave it: a
 * master machine with that disk and the snapshot linked clones start from. `kernel` masters
 * cannot exist on VirtualBox and `bootIso` masters have no disk: both `UNSUPPORTED`. On failure or
 * abort the machine and the VDI are removed.
 */
export async function importVboxMaster(
  ctx: VboxContext,
  masterName: string,
  fromPath: string,
  disk: MasterDiskImport,
  options: OperationOptions = {},
): Promise<MasterRef> {
  const type = disk.spec.source.type;
  if (type === 'bootIso' || type === 'kernel')
    throw new VmkitError(
      'UNSUPPORTED',
      `a '${type}' master cannot be imported on VirtualBox (${type === 'bootIso' ? 'it is a live ISO, with no disk' : 'VirtualBox has no direct kernel boot'})`,
      { details: { field: 'spec.source.type', master: masterName } },
    );
  const info = await inspectImage(fromPath, options.signal ? { signal: options.signal } : {});
  assertSafeImage(info, { field: 'disk', formats: ['qcow2', 'raw'], format: disk.format });
  const name = masterMachineName(ctx.options.namePrefix, masterName);
  const vdi = join(ctx.options.machineFolder, `${name}.vdi`);
  if (await stat(vdi).catch(() => undefined))
    throw new VmkitError('CONFLICT', `master ${masterName}: ${vdi} already exists`, {
      details: { master: masterName },
    });
  await mkdir(ctx.options.machineFolder, { recursive: true, mode: 0o700 });
  await assertMachineFolderFits(ctx, [{ what: `disk of ${name}`, bytes: info.fileSize }]);
  const progress = (fraction: number, message: string) =>
    emitProgress(options.onProgress, {
      phase: 'transfer',
      imageId: disk.spec.id,
      step: 'import',
      fraction,
      message,
    });
  let made = false;
  try {
    throwIfAborted(options.signal, `import of master ${masterName}`);
    progress(0, `converting the disk of ${name} to VDI`);
    made = true;
    const converted = await prepareDisk(
      { type: 'disk', path: fromPath, format: disk.format },
      {
        machineFolder: ctx.options.machineFolder,
        qemuImg: ctx.options.qemuImg,
        base: name,
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    if (converted.path !== vdi)
      throw new VmkitError('PROVIDER', `master ${masterName}: the disk was not converted`);
    progress(0.8, `registering master ${name}`);
    await ctx.conn.run(`registering master ${name}`, async (api) => {
      const medium = await api.vbox.openMedium(
        vdi,
        'HardDisk' as vbox.DeviceType,
        'ReadWrite' as vbox.AccessMode,
        false,
      );
      await registerMasterMachine(ctx, api, name, {
        disk: medium,
        hardware: masterMachineHardware(disk.spec),
        signal: options.signal,
      });
    });
    await takeMasterSnapshot(ctx, name, options.signal);
    throwIfAborted(options.signal, `import of master ${masterName}`);
    progress(1, `master ${name} imported`);
    return ownDiskMasterRef(name, vdi, disk.spec);
  } catch (error) {
    if (made) {
      await deleteMasterMachine(ctx, name, [], [vdi]).catch(() => {});
      await rm(vdi, { force: true });
    }
    throw error;
  }
}
