import { rm } from 'node:fs/promises';
import type { MasterSpec } from '@vmkit/core/spi';
import { GUEST_CLEANUP_STEPS, type GuestCleanupOutcome, readGuestCleanup, VmkitError } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import { closeDvd, mediumAttachments } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { withMachineLock } from '../../soap/machine-lock.js';
import { writeConfigDriveFile } from '../node/config-drive-file.js';
import { CONTROLLER, lockOptions, type VboxContext } from '../virtualbox-context.js';
import type { VboxBuildContext } from './build-state.js';
import { installAndWait } from './master-install.js';
import {
  POST_INSTALL_PROPERTY,
  POST_INSTALL_REPORT_PROPERTY,
  postInstallScript,
} from './post-install-script.js';

async function detachDrive(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine,
  path: string,
): Promise<void> {
  const attached = (await mediumAttachments(machine)).some(
    (a) => a.controller === CONTROLLER && a.port === 1 && a.device === 1,
  );
  if (attached)
    await withMachineLock(ctx.conn, api, machine, (m) => m.detachDevice(CONTROLLER, 1, 1), lockOptions(ctx));
  await closeDvd(api, path);
  await rm(path, { force: true });
}

/**
 * Boots the master once with a NoCloud drive whose user data runs the spec's post-install steps
 * and then the guest clean-up of {@link GUEST_CLEANUP_STEPS} (see {@link postInstallScript}) and
 * powers off; a step reported as failed (guest additions set the property) fails the build. The
 * drive is detached and deleted whatever happens. Returns what the clean-up removed, as the guest
 * reported it (`'unreported'` without guest additions; `undefined` when there was no boot: the
 * spec has no steps).
 */
export async function runPostInstall(
  ctx: VboxContext,
  c: VboxBuildContext,
  spec: MasterSpec,
  machineName: string,
): Promise<GuestCleanupOutcome> {
  const steps = spec.postInstall ?? [];
  if (steps.length === 0) {
    c.markSkipped('the spec has no post-install steps');
    return undefined;
  }
  const script = postInstallScript([
    ...steps,
    ...GUEST_CLEANUP_STEPS.map(({ name, run }) => ({ name, run })),
  ]);
  const s = c.state;
  const path = await writeConfigDriveFile(
    ctx.options.machineFolder,
    `${machineName}-post-install`,
    { format: 'nocloud', instanceId: `vmkit-post-install-${c.masterName}`, userData: script },
    c.signal,
  );
  // Remembered so that discard removes it should the build stop before the drive is detached.
  s.postInstallDrive = path;
  const boot = { what: 'post-install boot', name: machineName };
  let cleanup: GuestCleanupOutcome;
  try {
    await ctx.conn.run(`post-install of ${machineName}`, async (api) => {
      const machine = await api.vbox.findMachine(machineName);
      await withMachineLock(
        ctx.conn,
        api,
        machine,
        async (m) => {
          const dvd = await api.vbox.openMedium(
            path,
            'DVD' as vbox.DeviceType,
            'ReadOnly' as vbox.AccessMode,
            false,
          );
          await m.attachDevice(CONTROLLER, 1, 1, 'DVD' as vbox.DeviceType, dvd);
          await m.setBootOrder(1, 'HardDisk' as vbox.DeviceType);
        },
        lockOptions(ctx, c.signal),
      );
      await installAndWait(ctx, api, machine, c, boot);
    });
    // Read after the wait, which may have logged on again (vboxwebsrv restarted): by name.
    const [status, report] = await ctx.conn.run(
      `reading the post-install status of ${machineName}`,
      async (api) => {
        const machine = await api.vbox.findMachine(machineName);
        return [
          await machine.getGuestPropertyValue(POST_INSTALL_PROPERTY),
          await machine.getGuestPropertyValue(POST_INSTALL_REPORT_PROPERTY),
        ];
      },
      true,
      c.signal,
    );
    if (status.startsWith('failed:'))
      throw new VmkitError(
        'PROVIDER',
        `post-install step ${status.slice('failed:'.length)} failed in master ${c.masterName}`,
      );
    // Without guest additions the guest reported nothing: the clean-up ran, what it removed is unknown.
    cleanup = status === '' ? 'unreported' : readGuestCleanup(report);
  } finally {
    // Kept for discard to remove should this fail too.
    await ctx.conn
      .run(
        `detaching the post-install drive of ${machineName}`,
        async (api) => detachDrive(ctx, api, await api.vbox.findMachine(machineName), path),
        true,
      )
      .then(
        () => {
          s.postInstallDrive = undefined;
        },
        () => {},
      );
  }
  c.progress(1, `post-install: ${steps.length} step(s) ran`);
  return cleanup;
}
