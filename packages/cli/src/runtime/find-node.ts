import type { ComputeService, NodeMetadata } from '@vmkit/core';
import { VmkitError } from '@vmkit/core/spi';

/**
 * The node a command names by id or name (`vmkit exec web-1a2b`, `vmkit cp x web-1a2b:/tmp`):
 * `NOT_FOUND` (exit 3) when none has it; with `running`, `CONFLICT` (exit 4) when it is not
 * running, saying its status, since nothing can reach inside a stopped node.
 */
export async function findNode(
  service: Pick<ComputeService, 'listNodes'>,
  target: string,
  options: { readonly running?: boolean } = {},
): Promise<NodeMetadata> {
  const nodes = await service.listNodes();
  const node = nodes.find((n) => n.id === target) ?? nodes.find((n) => n.name === target);
  if (node === undefined) {
    throw new VmkitError('NOT_FOUND', `NODE: no node has the id or name ${target} (vmkit ls lists them)`, {
      details: { field: 'NODE', node: target },
    });
  }
  if (options.running === true && node.status !== 'running') {
    throw new VmkitError(
      'CONFLICT',
      `NODE: node ${node.name} is ${node.status}, not running: nothing can reach inside it`,
      { details: { field: 'NODE', node: node.name, status: node.status } },
    );
  }
  return node;
}
