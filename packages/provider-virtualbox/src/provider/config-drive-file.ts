import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigDriveSpec } from '@vmkit/core';
import { buildConfigDrive } from '@vmkit/imaging';

/**
 * Builds a config drive (its user data often holds secrets) and writes it as a new file in
 * `folder` that only this user can read: the name `<base>-<16 random hex>.iso` cannot be guessed,
 * the file is created exclusively (`O_EXCL`: never through a planted file or symlink) with mode
 * 0600, and removed again when writing fails. Returns its path.
 */
export async function writeConfigDriveFile(
  folder: string,
  base: string,
  spec: ConfigDriveSpec,
  signal?: AbortSignal,
): Promise<string> {
  const bytes = await buildConfigDrive(spec, signal ? { signal } : {});
  const path = join(folder, `${base}-${randomBytes(8).toString('hex')}.iso`);
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(bytes, signal ? { signal } : {});
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
  await handle.close();
  return path;
}
