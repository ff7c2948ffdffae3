import { createHash } from 'node:crypto';
import type { BlobStore } from './blob-store.js';

/**
 * Moves blob `name` of `container` into the `aside` container (a quarantine), under a safe name of
 * its own, with its original name and `reason` as metadata. The original is removed only once its
 * copy is stored, so nothing is lost when the move fails (the error is thrown then).
 */
export async function moveBlobAside(
  store: BlobStore,
  place: { readonly container: string; readonly name: string; readonly aside: string },
  reason: string,
): Promise<void> {
  const { container, name, aside } = place;
  const safeName = `${createHash('sha256').update(name).digest('hex').slice(0, 16)}-${Date.now()}.json`;
  const blob = await store.getBlob(container, name);
  if (blob) {
    await store.putBlob(aside, safeName, blob.stream(), {
      contentType: 'application/json',
      metadata: { 'original-name': encodeURIComponent(name).slice(0, 1024), reason: reason.slice(0, 1024) },
    });
  }
  await store.removeBlob(container, name);
}
