import { VmkitError } from '../errors/vmkit-error.js';

/**
 * `NOT_FOUND` for an image id nobody configured or built, listing the ids that are known, so the
 * caller sees the fix (a typo, or an image to add to the configuration). Internal.
 */
export function noSuchImage(id: string, known: readonly string[]): VmkitError {
  const ids = [...known].sort();
  const list = ids.length > 0 ? `known images: ${ids.join(', ')}` : 'no image is configured or built';
  return new VmkitError('NOT_FOUND', `no image ${id} (${list})`, {
    details: { imageId: id, knownImages: ids },
  });
}
