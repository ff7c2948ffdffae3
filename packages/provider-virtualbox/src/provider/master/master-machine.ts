import type { Firmware } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import { waitProgress } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { withMachineLock } from '../../soap/machine-lock.js';
import {
  CONTROLLER,
  createNamedMachine,
  lockOptions,
  MASTER_SNAPSHOT,
  type VboxContext,
} from '../virtualbox-context.js';

/** What a master machine is made with. */
export interface MasterMachineParts {
  /** Its base disk, opened or created. */
  readonly disk: vbox.IMedium;
  /** Memory and CPUs. */
  readonly hardware: { readonly ramMiB: number; readonly cores: number; readonly firmware: Firmware };
  /** An installer ISO to boot first, when it is installed from one. */
  readonly iso?: string;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Creates and registers the master machine `name` (IDE controller, the disk at 0/0 and the
 * installer ISO at 1/0 booted first when given); `onRegistered` runs once it is registered, so a
 * caller can record that there is something to remove.
 */
export async function registerMasterMachine(
  ctx: VboxContext,
  api: VboxApi,
  name: string,
  parts: MasterMachineParts,
  onRegistered: () => void = () => {},
): Promise<vbox.IMachine> {
  const machine = await createNamedMachine(ctx, api, name);
  await machine.setMemorySize(parts.hardware.ramMiB);
  await machine.setCPUCount(parts.hardware.cores);
  await setFirmware(machine, parts.hardware.firmware);
  await machine.addStorageController(CONTROLLER, 'IDE' as vbox.StorageBus);
  await machine.saveSettings();
  await api.vbox.registerMachine(machine);
  onRegistered();
  await withMachineLock(
    ctx.conn,
    api,
    machine,
    async (m) => {
      await m.attachDevice(CONTROLLER, 0, 0, 'HardDisk' as vbox.DeviceType, parts.disk);
      await m.setBootOrder(1, 'HardDisk' as vbox.DeviceType);
      if (parts.iso) {
        const dvd = await api.vbox.openMedium(
          parts.iso,
          'DVD' as vbox.DeviceType,
          'ReadOnly' as vbox.AccessMode,
          false,
        );
        await m.attachDevice(CONTROLLER, 1, 0, 'DVD' as vbox.DeviceType, dvd);
        await m.setBootOrder(1, 'DVD' as vbox.DeviceType);
        await m.setBootOrder(2, 'HardDisk' as vbox.DeviceType);
      }
    },
    lockOptions(ctx, parts.signal),
  );
  return machine;
}

/**
 * Sets `IMachine::firmwareType` for `efi` (`EFI`: OVMF-based UEFI; a new machine is `BIOS`, and a
 * clone has its master's). Call on a mutable machine (unregistered, or a session's).
 */
export async function setFirmware(machine: vbox.IMachine, firmware: Firmware): Promise<void> {
  if (firmware === 'efi') await machine.setFirmwareType('EFI' as vbox.FirmwareType);
}

/** Takes the snapshot linked clones are made from, once (a machine with a snapshot is left as it is). */
export async function takeMasterSnapshot(
  ctx: VboxContext,
  name: string,
  signal?: AbortSignal,
): Promise<void> {
  // Again after vboxwebsrv restarted: the snapshot VBoxSVC finished meanwhile is found and kept.
  await ctx.conn.run(
    `taking the snapshot of ${name}`,
    async (api) => {
      const machine = await api.vbox.findMachine(name);
      if (Number(await machine.getSnapshotCount()) > 0) return;
      await withMachineLock(
        ctx.conn,
        api,
        machine,
        async (m) =>
          waitProgress(
            (await m.takeSnapshot(MASTER_SNAPSHOT, 'vmkit master: linked clones start here', false))
              .returnval,
            'taking the snapshot',
            signal,
          ),
        { ...lockOptions(ctx, signal), save: false },
      );
    },
    true,
    signal,
  );
}
