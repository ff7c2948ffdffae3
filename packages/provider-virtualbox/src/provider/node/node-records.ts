import { refOf } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { masterMachineName, type VboxContext } from '../virtualbox-context.js';
import { NODE_META_KEY, parseNodeMeta } from './node-metadata.js';
import type { Found } from './node-ops.js';

/** A node's machine, metadata and name. */
export type NodeRecord = Found & { readonly name: string };

/**
 * Every machine with the prefix that carries node metadata (masters excluded). A machine this
 * provider made (in `made`, for the current websession) is known by its reference: vboxwebsrv
 * gives one object the same reference within a websession, and vmkit never rewrites a node's
 * metadata, so its name and metadata are not read again.
 */
export async function listNodeRecords(
  ctx: VboxContext,
  api: VboxApi,
  made: ReadonlyMap<string, Found & { readonly generation: number }>,
): Promise<NodeRecord[]> {
  const out: NodeRecord[] = [];
  const prefix = ctx.options.namePrefix;
  const masters = masterMachineName(prefix, '');
  const known = new Map<string, NodeRecord>();
  for (const [name, f] of made)
    if (f.generation === api.generation)
      known.set(refOf(f.machine), { name, machine: f.machine, meta: f.meta });
  for (const machine of await api.vbox.getMachines()) {
    const hit = known.get(refOf(machine));
    if (hit) {
      out.push({ ...hit, machine });
      continue;
    }
    const name = await machine.getName();
    if (!name.startsWith(prefix) || name.startsWith(masters)) continue;
    const meta = parseNodeMeta(await machine.getExtraData(NODE_META_KEY), name);
    if (meta) out.push({ name, machine, meta });
  }
  return out;
}
