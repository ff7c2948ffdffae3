import { readFile } from 'node:fs/promises';
import { invalidArgument } from '@vmkit/core/spi';

/**
 * Reads a file the user named with `flag` (e.g. `--user-data`): one that is missing or cannot be
 * read is `INVALID_ARGUMENT` (exit 2) naming the flag, the file, why, and the fix, not Node's
 * bare `ENOENT`.
 */
export async function readInputFile(flag: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'cannot be read (permission denied)'
            : `cannot be read (${code ?? (error as Error).message})`;
    throw invalidArgument(
      `${flag} ${file}`,
      `${why}: give the path of a readable file`,
      { flag, file },
      {
        cause: error,
      },
    );
  }
}
