import { constants, createReadStream } from 'node:fs';
import { copyFile, link, rename, rm } from 'node:fs/promises';

/** Moves a file, copying across filesystems; `exclusive` refuses to replace an existing `to`. */
export async function moveFile(from: string, to: string, exclusive = false): Promise<void> {
  try {
    if (exclusive) {
      await link(from, to);
      await rm(from, { force: true });
    } else await rename(from, to);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
  }
  await copyFile(from, to, exclusive ? constants.COPYFILE_EXCL : 0);
  await rm(from, { force: true });
}

/** A stream of a file's bytes (for uploads). */
export function fileStream(path: string) {
  return createReadStream(path, { highWaterMark: 1024 * 1024 });
}
