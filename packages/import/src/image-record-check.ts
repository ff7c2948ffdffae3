import { join } from 'node:path';
import type { ImageRecord } from './task-record.js';

/** Image ids: plain names, as `importImage` accepts them. */
export const IMAGE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Why an untrusted image record is not one this service made in `imageDir`, or `undefined` when
 * it is: its disks must be exactly the files `register` writes, `<imageDir>/<imageId>/disk<n>.qcow2`.
 * Such a record may be another host's (a shared store), so it is ignored, never quarantined.
 */
export function foreignImage(record: unknown, imageDir: string): string | undefined {
  const r = record as Partial<ImageRecord> | null;
  if (typeof r !== 'object' || r === null) return 'record must be an object';
  if (typeof r.imageId !== 'string' || !IMAGE_ID.test(r.imageId)) return 'imageId must be a plain name';
  const disk = (n: number) => join(imageDir, r.imageId as string, `disk${n}.qcow2`);
  if (r.path !== disk(0)) return `path must be ${disk(0)}`;
  if (!Array.isArray(r.extraDisks) || r.extraDisks.some((p, i) => p !== disk(i + 1)))
    return `extraDisks must be ${disk(1)}, ${disk(2)}, … in order`;
  return undefined;
}
