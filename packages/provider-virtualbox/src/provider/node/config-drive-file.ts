import { type ConfigDriveSpec, writeNewPrivateFile } from '@vmkit/core/spi';
import { buildConfigDrive } from '@vmkit/imaging';

/**
 * Builds a config drive (its user data often holds secrets) and writes it as a new private file
 * in `folder` (core's `writeNewPrivateFile`): the name `<base>-<16 random hex>.iso` cannot be
 * guessed, the file is created exclusively (`O_EXCL`: never through a planted file or symlink)
 * with mode 0600, and removed again when writing fails. Returns its path.
 */
export async function writeConfigDriveFile(
  folder: string,
  base: string,
  spec: ConfigDriveSpec,
  signal?: AbortSignal,
): Promise<string> {
  const bytes = await buildConfigDrive(spec, signal ? { signal } : {});
  return writeNewPrivateFile(folder, { prefix: `${base}-`, suffix: '.iso' }, bytes, signal);
}
