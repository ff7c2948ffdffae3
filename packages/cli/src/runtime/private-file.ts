import { rename, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { writeNewPrivateFile } from '@vmkit/core/internal';

/**
 * Writes `data` to `path` as a file only its owner can read and write (0600, whatever the
 * umask). The bytes go first to a new private file beside `path` with an unpredictable name
 * (core's `writeNewPrivateFile`: created exclusively, so a file or link planted there is never
 * followed), which is then renamed over `path`: a failure leaves neither half a file nor the
 * temporary one.
 */
export async function writePrivateFile(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = await writeNewPrivateFile(
    dirname(path),
    { prefix: `.${basename(path)}.`, suffix: '.tmp' },
    data,
  );
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
