import { rm } from 'node:fs/promises';
import { type ProviderNode, VmkitError } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import { guestProperties, waitProgress } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { hasResult, isNotFound, VBOX_RESULT } from '../../soap/errors.js';
import { withMachineLock } from '../../soap/machine-lock.js';
import { isInsideFolder } from '../master/master-ref-check.js';
import { lockOptions, masterMachineName, powerOptions, type VboxContext } from '../virtualbox-context.js';
import { GUEST_NET_PATTERN, guestInterfaces } from './guest-interfaces.js';
import { nodeStatus, powerOff } from './machine-power.js';
import { removeMachine } from './machine-removal.js';
import { watchMachine } from './machine-watch.js';
import { describeNode, NODE_META_KEY, readNodeMeta, type StoredNodeMeta } from './node-metadata.js';

/** A node's machine and its stored metadata. */
export interface Found {
  readonly machine: vbox.IMachine;
  readonly meta: StoredNodeMeta;
}

/** A node's machine and metadata; machines without vmkit's node metadata (or masters) are `NOT_FOUND`. */
export async function findNode(ctx: VboxContext, api: VboxApi, id: string): Promise<Found> {
  const prefix = ctx.options.namePrefix;
  const missing = (cause?: unknown) =>
    new VmkitError('NOT_FOUND', `no VirtualBox node ${id}`, cause === undefined ? {} : { cause });
  if (!id.startsWith(prefix) || id.startsWith(masterMachineName(prefix, ''))) throw missing();
  let machine: vbox.IMachine;
  try {
    machine = await api.vbox.findMachine(id);
  } catch (error) {
    if (isNotFound(error)) throw missing(error);
    throw error;
  }
  let meta: StoredNodeMeta | undefined;
  try {
    meta = readNodeMeta(await machine.getExtraData(NODE_META_KEY), id);
  } catch (error) {
    if (!VmkitError.is(error, 'CORRUPT')) throw error;
    throw new VmkitError('NOT_FOUND', `no VirtualBox node ${id} (${error.message})`, {
      cause: error,
      details: error.details,
    });
  }
  if (!meta) throw missing();
  return { machine, meta };
}

/**
 * The node a machine is now: its state and, when running, the addresses Guest Additions report
 * in its guest properties, per NIC (read anew each time).
 */
export async function describeMachine(id: string, { machine, meta }: Found): Promise<ProviderNode> {
  const state = String(await machine.getState());
  const interfaces =
    state === 'Running' ? guestInterfaces(await guestProperties(machine, GUEST_NET_PATTERN)) : [];
  return describeNode(id, meta, nodeStatus(state), interfaces);
}

/** Runs `fn` on the console of a machine under a shared lock. */
export async function withConsole(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine,
  fn: (console: vbox.IConsole) => Promise<unknown>,
): Promise<void> {
  await withMachineLock(ctx.conn, api, machine, async (_m, session) => fn(await session.getConsole()), {
    ...lockOptions(ctx),
    lockType: 'Shared',
    save: false,
    mutable: false,
  });
}

/** Launches a node headless; one already running (or paused: resumed) is not a failure. */
export async function launchNode(
  ctx: VboxContext,
  api: VboxApi,
  id: string,
  machine: vbox.IMachine,
  signal?: AbortSignal,
): Promise<void> {
  const session = await ctx.conn.borrowSession(api);
  let launching: vbox.IProgress | null;
  try {
    launching = await machine.launchVMProcess(session, 'headless', []);
  } catch (error) {
    ctx.conn.returnSession(api, session);
    if (
      !hasResult(error, VBOX_RESULT.INVALID_OBJECT_STATE) &&
      !hasResult(error, VBOX_RESULT.INVALID_VM_STATE)
    )
      throw error;
    const state = String(await machine.getState());
    if (state === 'Paused') await withConsole(ctx, api, machine, (c) => c.resume());
    else if (state !== 'Running' && state !== 'Starting') throw error;
    return;
  }
  try {
    await waitProgress(launching, `starting ${id}`, signal);
  } finally {
    await session.unlockMachine().then(
      () => ctx.conn.returnSession(api, session),
      () => {},
    );
  }
  if (ctx.options.startWatchMs > 0) await watchStart(ctx, api, id, machine, signal);
}

/**
 * Watches a launched node for `startWatchMs`: a guest that pauses (a full disk: the `no-space`
 * error), gets stuck, aborts or stops meanwhile fails the start with that cause, powered off
 * (see {@link watchMachine}).
 */
async function watchStart(
  ctx: VboxContext,
  api: VboxApi,
  id: string,
  machine: vbox.IMachine,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await watchMachine(ctx, api, machine, {
      label: `node ${id}`,
      expect: 'running',
      done: () => false,
      deadline: Date.now() + ctx.options.startWatchMs,
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    await powerOff(ctx.conn, api, machine, powerOptions(ctx, undefined, 0)).catch(() => {});
    throw error;
  }
}

/** Removes a node's machine, its own disk and its config drive (deleted only inside the machine folder). */
export async function removeNode(
  ctx: VboxContext,
  api: VboxApi,
  { machine, meta }: Found,
  signal?: AbortSignal,
): Promise<void> {
  const drive =
    meta.ext.configDrive && isInsideFolder(ctx.options.machineFolder, meta.ext.configDrive)
      ? meta.ext.configDrive
      : undefined;
  await removeMachine(ctx.conn, api, machine, {
    ...powerOptions(ctx, signal),
    ownedDvds: drive ? [drive] : [],
  });
  if (drive) await rm(drive, { force: true });
}
