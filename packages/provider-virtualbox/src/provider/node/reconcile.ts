import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { VboxApi } from '../../soap/connection.js';
import { masterMachineName, powerOptions, type VboxContext } from '../virtualbox-context.js';
import { removeMachine } from './machine-removal.js';
import { NODE_META_KEY } from './node-metadata.js';

/** The config drives written for the machine `name` (`<name>-config-<16 hex>.iso`) in `folder`. */
export async function configDrivesOf(folder: string, name: string): Promise<string[]> {
  const files = await readdir(folder).catch(() => [] as string[]);
  return files.filter(
    (f) => f.startsWith(`${name}-config-`) && /^-config-[0-9a-f]{16}\.iso$/.test(f.slice(name.length)),
  );
}

/**
 * Start-up clean-up: a machine with vmkit's prefix that is neither a master nor carries node
 * metadata is a clone cut off between registration and configuration (vmkit or vboxwebsrv
 * stopped). Once its last state change is older than `reconcileAfterMs` it is removed with its
 * own disks, and each removal is logged (the `logger` option). Returns the names removed.
 */
export async function reconcileHalfMadeNodes(ctx: VboxContext, api: VboxApi): Promise<string[]> {
  const { namePrefix, reconcileAfterMs, logger } = ctx.options;
  const masterPrefix = masterMachineName(namePrefix, '');
  const removed: string[] = [];
  for (const machine of await api.vbox.getMachines()) {
    const name = await machine.getName();
    if (!name.startsWith(namePrefix) || name.startsWith(masterPrefix)) continue;
    if ((await machine.getExtraData(NODE_META_KEY)) !== '') continue;
    const age = Date.now() - Number(await machine.getLastStateChange());
    if (age < reconcileAfterMs) continue;
    await removeMachine(ctx.conn, api, machine, powerOptions(ctx, undefined, 0));
    for (const drive of await configDrivesOf(ctx.options.machineFolder, name))
      await rm(join(ctx.options.machineFolder, drive), { force: true });
    logger.warn('virtualbox: removed a half-made node', { name });
    removed.push(name);
  }
  return removed;
}
