import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BuildContext, type IsoSource, openAnswerSession, VmkitError } from '@vmkit/core/spi';
import { writeIso9660 } from '@vmkit/imaging';
import type * as vbox from 'virtualbox-soap';
import { closeDvd } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { withMachineLock } from '../../soap/machine-lock.js';
import { CONTROLLER, lockOptions, type VboxContext } from '../virtualbox-context.js';

/**
 * An `iso` source's answers for the `drive` delivery, the only one this provider does: the
 * rendered files on an ISO 9660 image labelled `driveLabel` (default `OEMDRV`), written in-process
 * into the machine folder as `<machine>-answers.iso` (mode 0600), or `undefined` without answers.
 * Any other delivery is refused with `UNSUPPORTED` naming it, before anything is made.
 */
export async function writeAnswersDrive(
  ctx: VboxContext,
  c: BuildContext,
  source: IsoSource,
  machineName: string,
): Promise<string | undefined> {
  const answers = source.unattended;
  if (!answers) return undefined;
  for (const [i, delivery] of answers.delivery.entries())
    if (delivery !== 'drive')
      throw new VmkitError(
        'UNSUPPORTED',
        `source.unattended.delivery[${i}]: '${delivery}' is not done by the VirtualBox provider yet (it takes 'drive')`,
        { details: { field: `source.unattended.delivery[${i}]` } },
      );
  const session = await openAnswerSession(c.spec, { logger: c.logger, label: c.masterName });
  await session.close();
  const image = await writeIso9660(
    [...session.files].map(([path, content]) => ({ path, content })),
    { volumeId: session.driveLabel },
  );
  const path = join(ctx.options.machineFolder, `${machineName}-answers.iso`);
  await writeFile(path, image, { mode: 0o600 });
  c.logger.info('unattended answers drive', {
    master: c.masterName,
    label: session.driveLabel,
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
  if (machine)
    await withMachineLock(
      ctx.conn,
      api,
      machine,
      (m) => m.detachDevice(CONTROLLER, 1, 1),
      lockOptions(ctx),
    ).catch(() => {});
  await closeDvd(api, path);
  await rm(path, { force: true });
}
