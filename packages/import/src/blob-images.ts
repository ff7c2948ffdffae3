import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError } from '@vmkit/core/spi';
import { assertSafeImage, inspectImage } from '@vmkit/imaging';
import { copyCounted, sha256File } from './hashing.js';
import { IMAGE_ID } from './image-record-check.js';
import type { ImportDeps } from './import-runner.js';
import { fileStream, moveFile } from './move-file.js';
import type { DiskBlob, ImageRecord } from './task-record.js';

const SHA256 = /^[0-9a-f]{64}$/;

/** The blob (in the service's records container) holding disk `n` of an image kept in the store. */
export function diskBlobName(imageId: string, n: number): string {
  return `disks/${imageId}/disk${n}.qcow2`;
}

/** The local disk paths of an image: boot disk first. */
function diskPaths(image: Pick<ImageRecord, 'path' | 'extraDisks'>): string[] {
  return [image.path, ...image.extraDisks];
}

/**
 * Uploads an image's converted disks to the store (streamed; each blob's metadata carries the
 * sha256 recorded for it), boot disk first; returns what the image record keeps of them.
 */
export async function uploadImageDisks(
  imageId: string,
  disks: ReadonlyArray<{ readonly path: string; readonly sha256: string }>,
  deps: ImportDeps,
  signal: AbortSignal,
): Promise<DiskBlob[]> {
  const { store, container } = deps.options;
  const out: DiskBlob[] = [];
  for (const [n, d] of disks.entries()) {
    const name = diskBlobName(imageId, n);
    await store.putBlob(container, name, fileStream(d.path), {
      contentType: 'application/octet-stream',
      metadata: { sha256: d.sha256, format: 'qcow2' },
      signal,
    });
    out.push({ name, sha256: d.sha256, size: (await stat(d.path)).size });
  }
  return out;
}

/** Removes blobs of disks (absent ones are fine). */
export async function removeDiskBlobs(names: readonly string[], deps: ImportDeps): Promise<void> {
  for (const name of names) await deps.options.store.removeBlob(deps.options.container, name);
}

/**
 * An image record kept in the store, made this host's: its disks are this service's cache files
 * `<imageDir>/<imageId>/disk<n>.qcow2` (the record's own paths are the importing host's and are
 * never used). `undefined` when the record is not one of a blob-kept image as vmkit writes it:
 * blob names must be {@link diskBlobName}'s, sha256 hex and sizes whole numbers.
 */
export function blobImageHere(record: ImageRecord, imageDir: string): ImageRecord | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  if (typeof record.imageId !== 'string' || !IMAGE_ID.test(record.imageId)) return undefined;
  const blobs = (record as Partial<ImageRecord>).blobs;
  if (!Array.isArray(blobs) || blobs.length === 0 || !Array.isArray(record.extraDisks)) return undefined;
  if (blobs.length !== record.extraDisks.length + 1) return undefined;
  const ok = blobs.every(
    (b, n) =>
      typeof b === 'object' &&
      b !== null &&
      b.name === diskBlobName(record.imageId, n) &&
      typeof b.sha256 === 'string' &&
      SHA256.test(b.sha256) &&
      Number.isSafeInteger(b.size) &&
      b.size >= 0,
  );
  if (!ok || blobs[0]!.sha256 !== record.sha256) return undefined;
  const disk = (n: number) => join(imageDir, record.imageId, `disk${n}.qcow2`);
  return { ...record, path: disk(0), extraDisks: record.extraDisks.map((_, i) => disk(i + 1)) };
}

/**
 * Makes the local cache of a blob-kept image whole: each disk whose file is missing or whose
 * sha256 is not the recorded one is downloaded (streamed to a new private file, at most the
 * recorded size, its sha256 compared), inspected as any import (a qcow2, no backing file, within
 * `limits.maxImageBytes`) and only then moved into place. `CORRUPT` naming the blob and the rule
 * otherwise; nothing partial stays.
 */
export async function fetchImageDisks(
  image: ImageRecord,
  deps: ImportDeps,
  signal: AbortSignal,
): Promise<void> {
  const { store, container, limits } = deps.options;
  const paths = diskPaths(image);
  for (const [n, blob] of (image.blobs ?? []).entries()) {
    const path = paths[n]!;
    const cached = await sha256File(path, signal).catch(() => undefined);
    if (cached === blob.sha256) continue;
    await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
    const part = `${path}.${randomBytes(6).toString('hex')}.part`;
    try {
      const stored = await store.getBlob(container, blob.name, { signal });
      if (!stored)
        throw new VmkitError(
          'CORRUPT',
          `image ${image.imageId}: blob ${blob.name} is missing from ${container}`,
          {
            details: { blob: blob.name, rule: 'missing' },
          },
        );
      const got = await copyCounted(stored.stream(), part, {
        maxBytes: blob.size,
        field: `blobs[${n}]`,
        signal,
      });
      if (got.sha256 !== blob.sha256 || got.bytes !== blob.size)
        throw new VmkitError(
          'CORRUPT',
          `image ${image.imageId}: blob ${blob.name} has sha256 ${got.sha256} (${got.bytes} bytes), its record says ${blob.sha256} (${blob.size} bytes)`,
          { details: { blob: blob.name, rule: 'sha256' } },
        );
      const info = await inspectImage(part, { signal });
      assertSafeImage(info, { format: 'qcow2', maxVirtualSize: limits.maxImageBytes, field: `blobs[${n}]` });
      await moveFile(part, path);
    } catch (error) {
      await rm(part, { force: true });
      if (VmkitError.is(error, 'INVALID_ARGUMENT') && error.details.field === `blobs[${n}]`)
        throw new VmkitError(
          'CORRUPT',
          `image ${image.imageId}: blob ${blob.name} is larger than its record's ${blob.size} bytes`,
          {
            cause: error,
            details: { blob: blob.name, rule: 'size' },
          },
        );
      throw error;
    }
  }
}
