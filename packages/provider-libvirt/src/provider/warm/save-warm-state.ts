import { randomBytes } from 'node:crypto';
import { chmod, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  emitProgress,
  type MasterRef,
  type OperationOptions,
  type SavedWarmState,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core/spi';
import { DomainState } from '../../client/domain-procedures.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { checkLibvirtMasterRef } from '../master/master-ref-check.js';
import { lookupNode } from '../node/node-lookup.js';
import { destroyLibvirtNode } from '../node/node-power.js';
import { readSaveImageFile } from './state-image-file.js';
import type { LibvirtWarmData } from './warm-names.js';
import { warmNames } from './warm-names.js';

/**
 * Saves the running template node `id` of `master` as a warm state: libvirt's save writes the
 * state image (`<master>.warm-<gen>.state`) into the pool directory and stops the domain; the
 * node's disk is moved to `<master>.warm-<gen>.qcow2` (an overlay over the master, as it was at
 * the save), both made read-only; then the node (its domain and config drive) is removed. On a
 * failure before the state is complete, both files are removed and the node is left to core's
 * rollback.
 */
export async function saveLibvirtWarmState(
  ctx: LibvirtContext,
  id: string,
  master: MasterRef,
  options: OperationOptions = {},
): Promise<SavedWarmState> {
  const masterData = checkLibvirtMasterRef(ctx.options, master, undefined, { refOnly: true });
  const { dom, meta } = await lookupNode(ctx, id);
  if (meta.master !== masterData.volume)
    throw new VmkitError('CONFLICT', `node ${id} is not a clone of master ${masterData.volume}`, {
      details: { node: id },
    });
  const { state } = await ctx.client.domains.getState(dom);
  if (state !== DomainState.RUNNING)
    throw new VmkitError('CONFLICT', `warm template ${id} is not running (libvirt state ${state})`, {
      details: { node: id },
    });
  throwIfAborted(options.signal, `saving warm template ${id}`);
  const dir = await ctx.storage.targetPath();
  const names = warmNames(masterData.volume, randomBytes(6).toString('hex'));
  const statePath = join(dir, names.state);
  const diskPath = join(dir, names.disk);
  try {
    await ctx.client.domains.save(dom, statePath, 0, options.signal);
    // Checked once here, so a state libvirt wrote in a layout vmkit cannot read is refused now.
    await readSaveImageFile(statePath);
    await rename(join(dir, `${id}.qcow2`), diskPath);
    await chmod(statePath, 0o400);
    await chmod(diskPath, 0o400);
  } catch (error) {
    await rm(statePath, { force: true });
    await rm(diskPath, { force: true });
    throw error;
  }
  await ctx.storage.refresh(options.signal);
  await destroyLibvirtNode(ctx, id);
  emitProgress(options.onProgress, { phase: 'build', message: `warm state ${names.state} saved` });
  const data: LibvirtWarmData = {
    pool: ctx.options.pool,
    master: masterData.volume,
    disk: names.disk,
    state: names.state,
  };
  return { ref: { id: names.state, data }, stateBytes: (await stat(statePath)).size };
}
