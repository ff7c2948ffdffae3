import type * as vbox from 'virtualbox-soap';
import { waitProgress } from '../../soap/calls.js';
import type { VboxApi, VboxConnection } from '../../soap/connection.js';
import { type PowerOffOptions, powerOff } from './machine-power.js';

/** What to remove with a machine besides its own hard disks. */
export interface RemovalOptions extends PowerOffOptions {
  /** Locations of DVD images (config drives) that belong to the machine: deleted too. */
  readonly ownedDvds?: readonly string[];
  /** Hard disks that are not ours (a user's disk opened as a master): closed, never deleted. */
  readonly keepDisks?: readonly string[];
  /** When given, only the hard disks at locations it accepts are deleted; the others are closed and kept. */
  readonly own?: (location: string) => boolean;
}

/**
 * Removes a machine and only what is its own: power off (ACPI, then power down), `unregister`
 * with `DetachAllReturnHardDisksOnly`, then `deleteConfig` with the returned disks (the machine's
 * own: for a linked clone its differencing disk, never the master's) plus its own DVD images.
 */
export async function removeMachine(
  conn: VboxConnection,
  api: VboxApi,
  machine: vbox.IMachine,
  options: RemovalOptions,
): Promise<void> {
  await powerOff(conn, api, machine, options);
  const disks = await machine.unregister('DetachAllReturnHardDisksOnly' as vbox.CleanupMode);
  const doomed: vbox.IMedium[] = [];
  const kept: vbox.IMedium[] = [];
  for (const disk of disks) {
    const location = options.keepDisks?.length || options.own ? await disk.getLocation() : '';
    const keep = options.keepDisks?.includes(location) === true || options.own?.(location) === false;
    (keep ? kept : doomed).push(disk);
  }
  for (const location of options.ownedDvds ?? []) {
    try {
      doomed.push(
        await api.vbox.openMedium(location, 'DVD' as vbox.DeviceType, 'ReadOnly' as vbox.AccessMode, false),
      );
    } catch {
      // Already gone: nothing to delete.
    }
  }
  await waitProgress(await machine.deleteConfig(doomed), 'deleting the machine settings and disks');
  for (const disk of kept) await disk.close();
}
