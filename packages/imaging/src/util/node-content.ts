import { throwIfAborted, VmkitError } from '@vmkit/core';
import type { MediaNode } from '../media-tree.js';

/**
 * Yields a file node's content, checking that a lazily read source delivers exactly the size it
 * declared (the layout was planned from it): a mismatch is `CORRUPT`.
 */
export async function* nodeContent(node: MediaNode, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  if (node.data) {
    yield node.data;
    return;
  }
  if (!node.source) return;
  let seen = 0;
  for await (const chunk of node.source.open(signal)) {
    throwIfAborted(signal, 'writing media');
    seen += chunk.length;
    if (seen > node.size) break;
    yield chunk;
  }
  if (seen !== node.size) {
    throw new VmkitError(
      'CORRUPT',
      `content of '${node.path}' changed while writing: the source declared ${node.size} bytes but gave ${seen > node.size ? 'more' : seen}`,
      { details: { path: node.path, declared: node.size } },
    );
  }
}
