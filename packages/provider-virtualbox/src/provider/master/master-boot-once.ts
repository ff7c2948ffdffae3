import { rm } from 'node:fs/promises';
import type * as vbox from 'virtualbox-soap';
import { closeDvd, mediumAttachments } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { withMachineLock } from '../../soap/machine-lock.js';
import { writeConfigDriveFile } from '../node/config-drive-file.js';
import { CONTROLLER, lockOptions, type VboxContext } from '../virtualbox-context.js';
import type { VboxBuildContext } from './build-state.js';
import { installAndWait } from './master-install.js';

/** Where the one-boot NoCloud drive goes (the installer ISO may still be at 1/0). */
const DRIVE_SLOT = { port: 1, device: 1 } as const;
/** Where an extra DVD of the boot goes (the disk is at 0/0). */
const EXTRA_SLOT = { port: 0, device: 1 } as const;

/** One boot of a master with user data. */
export interface BootOnce {
  /** What the boot is, in messages (`post-install boot`). */
  readonly what: string;
  /** The drive file's name part (`post-install`). */
  readonly purpose: string;
  /** The NoCloud instance id (cloud-init runs its user data once per id). */
  readonly instanceId: string;
  /** The user data: a script that ends by powering the guest off. */
  readonly userData: string;
  /** A DVD image attached for the boot too (read only; closed, never deleted, afterwards). */
  readonly extraDvd?: string;
  /** Guest properties read once the guest powered off. */
  readonly properties: readonly string[];
}

async function detachDvd(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine,
  slot: { port: number; device: number },
  path: string,
): Promise<void> {
  const attached = (await mediumAttachments(machine)).some(
    (a) => a.controller === CONTROLLER && a.port === slot.port && a.device === slot.device,
  );
  if (attached)
    await withMachineLock(
      ctx.conn,
      api,
      machine,
      (m) => m.detachDevice(CONTROLLER, slot.port, slot.device),
      lockOptions(ctx),
    );
  await closeDvd(api, path);
}

/**
 * Boots the master once with a NoCloud drive carrying `userData` (and `extraDvd`, when given)
 * from its disk, waits until the guest powers itself off, and returns the guest properties asked
 * for (what the script reported through Guest Additions; empty when it could not). The drive is
 * detached and deleted, the extra DVD detached and closed, whatever happens.
 */
export async function bootMasterOnce(
  ctx: VboxContext,
  c: VboxBuildContext,
  machineName: string,
  boot: BootOnce,
): Promise<string[]> {
  const s = c.state;
  const path = await writeConfigDriveFile(
    ctx.options.machineFolder,
    `${machineName}-${boot.purpose}`,
    { format: 'nocloud', instanceId: boot.instanceId, userData: boot.userData },
    c.signal,
  );
  // Remembered so that discard removes it should the build stop before the drive is detached.
  s.postInstallDrive = path;
  const what = { what: boot.what, name: machineName };
  try {
    await ctx.conn.run(`${boot.what} of ${machineName}`, async (api) => {
      const machine = await api.vbox.findMachine(machineName);
      await withMachineLock(
        ctx.conn,
        api,
        machine,
        async (m) => {
          const open = (file: string) =>
            api.vbox.openMedium(file, 'DVD' as vbox.DeviceType, 'ReadOnly' as vbox.AccessMode, false);
          await m.attachDevice(
            CONTROLLER,
            DRIVE_SLOT.port,
            DRIVE_SLOT.device,
            'DVD' as vbox.DeviceType,
            await open(path),
          );
          if (boot.extraDvd)
            await m.attachDevice(
              CONTROLLER,
              EXTRA_SLOT.port,
              EXTRA_SLOT.device,
              'DVD' as vbox.DeviceType,
              await open(boot.extraDvd),
            );
          await m.setBootOrder(1, 'HardDisk' as vbox.DeviceType);
        },
        lockOptions(ctx, c.signal),
      );
      await installAndWait(ctx, api, machine, c, what);
    });
    // Read after the wait, which may have logged on again (vboxwebsrv restarted): by name.
    return await ctx.conn.run(
      `reading what the ${boot.what} of ${machineName} reported`,
      async (api) => {
        const machine = await api.vbox.findMachine(machineName);
        const out: string[] = [];
        for (const p of boot.properties) out.push(await machine.getGuestPropertyValue(p));
        return out;
      },
      true,
      c.signal,
    );
  } finally {
    // Kept for discard to remove should this fail too.
    await ctx.conn
      .run(
        `detaching the ${boot.purpose} drive of ${machineName}`,
        async (api) => {
          const machine = await api.vbox.findMachine(machineName);
          await detachDvd(ctx, api, machine, DRIVE_SLOT, path);
          await rm(path, { force: true });
          if (boot.extraDvd) await detachDvd(ctx, api, machine, EXTRA_SLOT, boot.extraDvd);
        },
        true,
      )
      .then(
        () => {
          s.postInstallDrive = undefined;
        },
        () => {},
      );
  }
}
