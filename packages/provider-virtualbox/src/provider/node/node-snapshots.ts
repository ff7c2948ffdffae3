import type { NodeSnapshot, SnapshotRequest } from '@vmkit/core/spi';
import { VmkitError } from '@vmkit/core/spi';
import * as vbox from 'virtualbox-soap';
import { snapshotChildRefs, waitProgress, wrap } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { isNotFound } from '../../soap/errors.js';
import { withMachineLock } from '../../soap/machine-lock.js';
import { lockOptions, type VboxContext } from '../virtualbox-context.js';
import { ACTIVE_STATES } from './machine-power.js';
import { type Found, launchNode } from './node-ops.js';

/** The lock a snapshot call takes: `Shared` while the VM process holds the machine, else `Write`. */
async function lockFor(machine: vbox.IMachine): Promise<'Shared' | 'Write'> {
  return ACTIVE_STATES.has(String(await machine.getState())) ? 'Shared' : 'Write';
}

/** The machine's snapshot of that name, or `undefined`. */
async function findByName(machine: vbox.IMachine, name: string): Promise<vbox.ISnapshot | undefined> {
  if (Number(await machine.getSnapshotCount()) === 0) return undefined;
  for (const s of await allSnapshots(machine)) if ((await s.getName()) === name) return s;
  return undefined;
}

/** Every snapshot of the machine, parents before children (a walk from the root). */
async function allSnapshots(machine: vbox.IMachine): Promise<vbox.ISnapshot[]> {
  if (Number(await machine.getSnapshotCount()) === 0) return [];
  const out: vbox.ISnapshot[] = [];
  const queue = [await machine.findSnapshot('')];
  for (let s = queue.shift(); s; s = queue.shift()) {
    out.push(s);
    for (const ref of await snapshotChildRefs(s)) queue.push(wrap(vbox.ISnapshot, machine, ref));
  }
  return out;
}

/** A snapshot as vmkit lists it. */
async function describe(s: vbox.ISnapshot, current: string | undefined): Promise<NodeSnapshot> {
  const [id, name, description, timeStamp, online, parent] = await Promise.all([
    s.getId(),
    s.getName(),
    s.getDescription(),
    s.getTimeStamp(),
    s.getOnline(),
    s.getParent() as Promise<vbox.ISnapshot | null>,
  ]);
  const parentName = parent ? await parent.getName() : undefined;
  return {
    name,
    ...(description ? { description } : {}),
    createdAt: new Date(Number(timeStamp)).toISOString(),
    memory: Boolean(online),
    current: id === current,
    ...(parentName === undefined ? {} : { parent: parentName }),
  };
}

/** The id of the machine's current snapshot, if it has one. */
async function currentId(machine: vbox.IMachine): Promise<string | undefined> {
  if (Number(await machine.getSnapshotCount()) === 0) return undefined;
  const current = (await machine.getCurrentSnapshot()) as vbox.ISnapshot | null;
  return current ? current.getId() : undefined;
}

/** The node's snapshots, oldest first. */
export async function listVboxNodeSnapshots({ machine }: Found): Promise<NodeSnapshot[]> {
  const current = await currentId(machine);
  const listed = await Promise.all((await allSnapshots(machine)).map((s) => describe(s, current)));
  return listed.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
}

/**
 * Takes a snapshot of a node: offline when it is stopped, online (its saved state, the VM paused
 * meanwhile) when it runs. VirtualBox allows one name twice; vmkit does not.
 */
export async function snapshotVboxNode(
  ctx: VboxContext,
  api: VboxApi,
  id: string,
  { machine }: Found,
  request: SnapshotRequest,
  signal?: AbortSignal,
): Promise<NodeSnapshot> {
  if (await findByName(machine, request.name))
    throw new VmkitError('CONFLICT', `node ${id} already has a snapshot named ${request.name}`, {
      details: { node: id, snapshot: request.name },
    });
  const lockType = await lockFor(machine);
  if ((lockType === 'Shared') !== request.memory)
    throw new VmkitError(
      lockType === 'Shared' ? 'UNSUPPORTED' : 'CONFLICT',
      lockType === 'Shared'
        ? `memory: VirtualBox snapshots running node ${id} only with its saved state`
        : `memory: node ${id} is stopped, it has no memory to save`,
      { details: { node: id, field: 'memory' } },
    );
  await withMachineLock(
    ctx.conn,
    api,
    machine,
    async (m) =>
      waitProgress(
        (await m.takeSnapshot(request.name, request.description ?? '', true)).returnval,
        `taking snapshot ${request.name} of ${id}`,
        signal,
      ),
    { ...lockOptions(ctx, signal), lockType, save: false },
  );
  const taken = await findByName(machine, request.name);
  if (!taken) throw new VmkitError('PROVIDER', `snapshot ${request.name} of ${id} vanished once taken`);
  return describe(taken, await currentId(machine));
}

/** The node's snapshot of that name: `NOT_FOUND` naming it. */
async function existing(machine: vbox.IMachine, id: string, name: string): Promise<vbox.ISnapshot> {
  const found = await findByName(machine, name).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  if (!found)
    throw new VmkitError('NOT_FOUND', `node ${id} has no snapshot ${name}`, {
      details: { node: id, snapshot: name },
    });
  return found;
}

/**
 * Restores a stopped node's snapshot; an online one leaves the machine Saved, so the node is
 * started again from that state (it runs where it was).
 */
export async function revertVboxNode(
  ctx: VboxContext,
  api: VboxApi,
  id: string,
  found: Found,
  name: string,
  signal?: AbortSignal,
): Promise<void> {
  const { machine } = found;
  const snap = await existing(machine, id, name);
  if ((await lockFor(machine)) === 'Shared')
    throw new VmkitError(
      'CONFLICT',
      `node ${id} is running: VirtualBox restores snapshots of stopped machines only`,
      {
        details: { node: id },
      },
    );
  await withMachineLock(
    ctx.conn,
    api,
    machine,
    async (m) => waitProgress(await m.restoreSnapshot(snap), `restoring snapshot ${name} of ${id}`, signal),
    { ...lockOptions(ctx, signal), save: false },
  );
  if (await snap.getOnline()) await launchNode(ctx, api, id, machine, signal);
}

/** Deletes one snapshot (its differencing disks merged into their child); running nodes too. */
export async function deleteVboxNodeSnapshot(
  ctx: VboxContext,
  api: VboxApi,
  id: string,
  { machine }: Found,
  name: string,
): Promise<void> {
  const snap = await existing(machine, id, name);
  const snapshotId = await snap.getId();
  await withMachineLock(
    ctx.conn,
    api,
    machine,
    async (m) => waitProgress(await m.deleteSnapshot(snapshotId), `deleting snapshot ${name} of ${id}`),
    { ...lockOptions(ctx), lockType: await lockFor(machine), save: false },
  );
}
