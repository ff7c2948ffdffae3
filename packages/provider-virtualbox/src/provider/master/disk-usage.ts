import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { DiskBytes, MasterRef } from '@vmkit/core/spi';
import * as vbox from 'virtualbox-soap';
import { mediumAttachments, wrap } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { isNotFound } from '../../soap/errors.js';
import type { VboxContext } from '../virtualbox-context.js';
import { checkVboxMasterRef, isInsideFolder } from './master-ref-check.js';

/** What VirtualBox says a medium takes: `getSize` (the file's bytes) and `getLogicalSize`. */
async function mediumBytes(medium: vbox.IMedium): Promise<DiskBytes> {
  return {
    allocatedBytes: Number(await medium.getSize()),
    virtualBytes: Number(await medium.getLogicalSize()),
  };
}

function add(a: DiskBytes, b: DiskBytes): DiskBytes {
  return {
    allocatedBytes: a.allocatedBytes + b.allocatedBytes,
    virtualBytes: a.virtualBytes + b.virtualBytes,
  };
}

const ZERO: DiskBytes = { allocatedBytes: 0, virtualBytes: 0 };

/** A registered machine, or `undefined` when VirtualBox knows none by that name. */
async function machineNamed(api: VboxApi, name: string): Promise<vbox.IMachine | undefined> {
  try {
    return await api.vbox.findMachine(name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * The space of a master: its base disk (the root of the disk its current state uses, as
 * VirtualBox measures it) and the master's own differencing disk; a `bootIso` master's ISO file.
 * `undefined` when the reference breaks a rule of `checkVboxMasterRef` or the master is gone.
 */
export async function masterBytes(
  ctx: VboxContext,
  api: VboxApi,
  ref: MasterRef,
): Promise<DiskBytes | undefined> {
  let data: ReturnType<typeof checkVboxMasterRef>;
  try {
    data = checkVboxMasterRef(ctx.options, ref, undefined);
  } catch {
    return undefined;
  }
  if (data.bootIso) {
    const info = await stat(data.bootIso).catch(() => undefined);
    return info?.isFile() ? { allocatedBytes: info.size, virtualBytes: info.size } : undefined;
  }
  const machine = await machineNamed(api, data.machine);
  if (!machine) return undefined;
  let total = ZERO;
  for (const a of await mediumAttachments(machine)) {
    if (a.type !== 'HardDisk' || !a.medium) continue;
    let medium: vbox.IMedium | null = wrap(vbox.IMedium, machine, a.medium);
    // The current state's differencing disk, then its parents up to the base disk.
    while (medium) {
      const own = await mediumBytes(medium);
      const parent: vbox.IMedium | null = await medium.getParent();
      // The guest sees the base's capacity once, however many layers are on top.
      total = add(total, parent ? { ...own, virtualBytes: 0 } : own);
      medium = parent;
    }
  }
  return total;
}

/**
 * The space of a node's own disks: its differencing (or cloned) disks and its config drive, as
 * VirtualBox measures them; never the master's disk or a boot ISO it shares with other nodes.
 * `undefined` when it is not a machine of this provider's nodes.
 */
export async function nodeBytes(ctx: VboxContext, api: VboxApi, id: string): Promise<DiskBytes | undefined> {
  if (!id.startsWith(ctx.options.namePrefix)) return undefined;
  const machine = await machineNamed(api, id);
  if (!machine) return undefined;
  let total = ZERO;
  for (const a of await mediumAttachments(machine)) {
    if (!a.medium) continue;
    const medium = wrap(vbox.IMedium, machine, a.medium);
    const location = await medium.getLocation();
    const own =
      a.type === 'HardDisk'
        ? isInsideFolder(join(ctx.options.machineFolder, id), location)
        : basename(location).startsWith(`${id}-config`);
    if (own) total = add(total, await mediumBytes(medium));
  }
  return total;
}
