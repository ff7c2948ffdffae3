import { throwIfAborted, VmkitError } from '@vmkit/core/spi';
import type { MediaNode } from '../media-tree.js';
import { FILE_OFFSET, FILE_PATH, type Piece } from './file-region.js';

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

/** A node's content as pieces: a file region for file-backed sources, else its chunks. */
export async function* nodePieces(node: MediaNode, signal?: AbortSignal): AsyncGenerator<Piece> {
  const marked = node.source as { [FILE_PATH]?: string; [FILE_OFFSET]?: number } | undefined;
  const path = marked?.[FILE_PATH];
  if (path !== undefined) {
    const offset = marked?.[FILE_OFFSET];
    yield {
      kind: 'file-region',
      path,
      size: node.size,
      mediaPath: node.path,
      ...(offset === undefined ? {} : { offset }),
    };
    return;
  }
  yield* nodeContent(node, signal);
}
