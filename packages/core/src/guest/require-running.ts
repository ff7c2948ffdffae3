import { VmkitError } from '../errors/vmkit-error.js';
import type { NodeMetadata } from '../model/node-metadata.js';

/** `NOT_FOUND` for an unknown node, `CONFLICT` for one that is not running; the node otherwise. */
export function requireRunning(id: string, node: NodeMetadata | undefined): NodeMetadata {
  if (!node) throw new VmkitError('NOT_FOUND', `no node ${id}`, { details: { node: id } });
  if (node.status !== 'running')
    throw new VmkitError('CONFLICT', `node ${node.name} is ${node.status}, not running`, {
      details: { node: node.name, status: node.status },
    });
  return node;
}
