import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` as a file only its owner can read and write (0600, whatever the
 * umask). The bytes go first to a temporary file beside `path` with an unpredictable name,
 * created exclusively (so a file or link planted there is never followed), which is then renamed
 * over `path`: a failure leaves neither half a file nor the temporary one.
 */
export async function writePrivateFile(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(12).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  let renamed = false;
  try {
    try {
      await handle.chmod(0o600);
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    renamed = true;
  } finally {
    if (!renamed) await rm(tmp, { force: true });
  }
}
