import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AnswerSession, type BuildContext, openAnswerSession } from '@vmkit/core/spi';
import { remasterWithAnswers, writeIso9660 } from '@vmkit/imaging';
import type * as vbox from 'virtualbox-soap';
import { closeDvd } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { withMachineLock } from '../../soap/machine-lock.js';
import { CONTROLLER, lockOptions, type VboxContext } from '../virtualbox-context.js';
import type { LocalFile } from './master-source.js';

/**
 * An `iso` source's answers (core's `openAnswerSession`: files read, checked and rendered, each
 * logged by name and size; with `http`, its answer server started on 127.0.0.1, which the guest
 * reaches as `10.0.2.2` through the NAT adapter, see {@link openNatToAnswers}). Close it when the
 * install step ends.
 */
export async function openInstallerAnswers(c: BuildContext): Promise<AnswerSession> {
  return openAnswerSession(c.spec, { logger: c.logger, label: c.masterName });
}

/**
 * With the `http` delivery: adapter 0 of the installer machine enabled and attached to NAT, its
 * NAT engine's `localhostReachable` set, so the guest's requests to 10.0.2.2 reach the answer
 * server on the host's loopback (a per-adapter attribute of the 7.0 API; vmkit does not rely on
 * its default). {@link closeNatToAnswers} clears it when the installer is done.
 */
export async function openNatToAnswers(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine,
  signal?: AbortSignal,
): Promise<void> {
  await withMachineLock(
    ctx.conn,
    api,
    machine,
    async (m) => {
      const adapter = await m.getNetworkAdapter(0);
      await adapter.setEnabled(true);
      await adapter.setAttachmentType('NAT' as vbox.NetworkAttachmentType);
      await (await adapter.getNATEngine()).setLocalhostReachable(true);
    },
    lockOptions(ctx, signal),
  );
}

/** The installer is done: the host's loopback no longer reachable from the machine (nor its clones). */
export async function closeNatToAnswers(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine,
): Promise<void> {
  await withMachineLock(
    ctx.conn,
    api,
    machine,
    async (m) => (await (await m.getNetworkAdapter(0)).getNATEngine()).setLocalhostReachable(false),
    lockOptions(ctx),
  );
}

/**
 * The installer ISO with the answers for the `iso` and `initrd` deliveries (imaging's
 * `remasterWithAnswers`, shared with libvirt): `kernelParams` (expanded) on its kernel lines,
 * the files at its root and/or appended to its initrds, written into the machine folder as
 * `<machine>-installer-answers.iso` (mode 0600) and owned by the build; also without them when
 * the kernel parameters name the build's answer server (`{{http}}`: never in the shared boot ISO
 * cache). A downloaded original is removed once read. `undefined` (the original kept) otherwise.
 */
export async function answeredInstallerIso(
  ctx: VboxContext,
  c: BuildContext,
  answers: AnswerSession,
  iso: LocalFile,
  kernelParams: string,
  machineName: string,
): Promise<LocalFile | undefined> {
  let result: Awaited<ReturnType<typeof remasterWithAnswers>>;
  try {
    result = await remasterWithAnswers({
      source: iso.path,
      output: answeredIsoPath(ctx, machineName),
      answers,
      kernelParams,
      logger: c.logger,
      label: c.masterName,
      ...(c.signal ? { signal: c.signal } : {}),
    });
  } catch (error) {
    if (iso.owned) await rm(iso.path, { force: true });
    throw error;
  }
  // Not remastered: the caller boots the original (or its cached copy with kernel parameters).
  if (!result) return undefined;
  if (iso.owned) await rm(iso.path, { force: true });
  return { path: result.file, owned: true };
}

/** Where {@link answeredInstallerIso} writes a machine's answered installer ISO. */
export function answeredIsoPath(ctx: VboxContext, machineName: string): string {
  return join(ctx.options.machineFolder, `${machineName}-installer-answers.iso`);
}

/**
 * The answers for the `drive` delivery: the rendered files on an ISO 9660 image labelled
 * `driveLabel` (default `OEMDRV`), written in-process into the machine folder as
 * `<machine>-answers.iso` (mode 0600), or `undefined` without the delivery.
 */
export async function writeAnswersDrive(
  ctx: VboxContext,
  c: BuildContext,
  answers: AnswerSession,
  machineName: string,
): Promise<string | undefined> {
  if (!answers.delivery.includes('drive')) return undefined;
  const image = await writeIso9660(
    [...answers.files].map(([path, content]) => ({ path, content })),
    { volumeId: answers.driveLabel },
  );
  const path = join(ctx.options.machineFolder, `${machineName}-answers.iso`);
  await writeFile(path, image, { mode: 0o600 });
  c.logger.info('unattended answers drive', {
    master: c.masterName,
    label: answers.driveLabel,
    bytes: image.byteLength,
  });
  return path;
}

/** Attaches the answers drive as the installer machine's second DVD (IDE 1/1). */
export async function attachAnswersDrive(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine,
  path: string,
  signal?: AbortSignal,
): Promise<void> {
  const dvd = await api.vbox.openMedium(path, 'DVD' as vbox.DeviceType, 'ReadOnly' as vbox.AccessMode, false);
  await withMachineLock(
    ctx.conn,
    api,
    machine,
    (m) => m.attachDevice(CONTROLLER, 1, 1, 'DVD' as vbox.DeviceType, dvd),
    lockOptions(ctx, signal),
  );
}

/** Detaches the answers drive once the installer is done, closes its medium and deletes its file. */
export async function removeAnswersDrive(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine | undefined,
  path: string,
): Promise<void> {
  await removeDvd(ctx, api, machine, path, 1);
}

/**
 * Detaches the answered installer ISO (the installer's DVD, IDE 1/0) once the installer is done,
 * the boot order back to the disk, closes its medium and deletes its file: the answers (which may
 * hold password hashes) served the installer only.
 */
export async function removeAnsweredIso(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine | undefined,
  path: string,
): Promise<void> {
  await removeDvd(ctx, api, machine, path, 0);
}

async function removeDvd(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine | undefined,
  path: string,
  device: 0 | 1,
): Promise<void> {
  if (machine)
    await withMachineLock(
      ctx.conn,
      api,
      machine,
      async (m) => {
        await m.detachDevice(CONTROLLER, 1, device);
        if (device === 0) {
          await m.setBootOrder(1, 'HardDisk' as vbox.DeviceType);
          await m.setBootOrder(2, 'Null' as vbox.DeviceType);
        }
      },
      lockOptions(ctx),
    ).catch(() => {});
  await closeDvd(api, path);
  await rm(path, { force: true });
}
