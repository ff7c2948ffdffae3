import { rm } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type * as vbox from 'virtualbox-soap';
import { machineIdsOf, waitProgress } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { isNotFound } from '../../soap/errors.js';
import { powerOptions, type VboxContext } from '../virtualbox-context.js';
import { removeMachine } from './machine-removal.js';
import { configDrivesOf } from './reconcile.js';

/** Media of the registry whose location passes `wanted` and that no machine uses. */
async function unusedMedia(
  media: readonly vbox.IMedium[],
  wanted: (location: string) => boolean,
): Promise<vbox.IMedium[]> {
  const out: vbox.IMedium[] = [];
  for (const medium of media)
    if (wanted(await medium.getLocation()) && (await machineIdsOf(medium)).length === 0) out.push(medium);
  return out;
}

/**
 * Removes what an interrupted clone or removal of the node machine `name` can have left once
 * vboxwebsrv lost the websession that was making or removing it (re-obtaining every reference):
 * the registered machine of that name with its own disks; hard disks in its folder that no
 * machine uses (a clone whose unregistered machine was released keeps them in the registry);
 * its config drives, closed in the registry and deleted. Returns whether anything was found.
 */
export async function sweepNodeLeftovers(ctx: VboxContext, api: VboxApi, name: string): Promise<boolean> {
  let found = false;
  try {
    const machine = await api.vbox.findMachine(name);
    found = true;
    await removeMachine(ctx.conn, api, machine, powerOptions(ctx, undefined, 0));
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const folder = join(ctx.options.machineFolder, name) + sep;
  for (const disk of await unusedMedia(await api.vbox.getHardDisks(), (l) => l.startsWith(folder))) {
    found = true;
    await waitProgress(await disk.deleteStorage(), `deleting the disk of the interrupted ${name}`);
  }
  const drives = (await configDrivesOf(ctx.options.machineFolder, name)).map((f) =>
    join(ctx.options.machineFolder, f),
  );
  for (const dvd of await unusedMedia(await api.vbox.getDVDImages(), (l) => drives.includes(l)))
    await dvd.close();
  for (const drive of drives) {
    found = true;
    await rm(drive, { force: true });
  }
  return found;
}
