import type { LibvirtContext } from '../libvirt-context.js';
import { readConsoleLog } from '../master/console-log.js';
import { lookupNode } from './node-lookup.js';

/** The pool volume holding a node's serial console log (one of the node's own volumes). */
export function nodeConsoleVolume(domain: string): string {
  return `${domain}-console.log`;
}

/**
 * The end of node `id`'s serial console log (`''` when the node keeps none: a node made before
 * logs were kept, a warm clone, or a driver running no guest); `NOT_FOUND` for an unknown node.
 */
export async function readLibvirtNodeConsole(
  ctx: LibvirtContext,
  id: string,
  tailBytes?: number,
): Promise<string> {
  const { dom, meta } = await lookupNode(ctx, id);
  const volume = nodeConsoleVolume(dom.name);
  if (!meta.ext.volumes.includes(volume)) return '';
  return (await readConsoleLog(ctx, volume, tailBytes)) ?? '';
}
