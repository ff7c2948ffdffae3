import { execFile } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { VmkitError } from '@vmkit/core/spi';

const run = promisify(execFile);

/**
 * Rewrites a downloaded master disk as a qcow2 with compressed clusters (`qemu-img convert -c -O
 * qcow2`, zlib), a standalone image any qemu reads without unpacking, into the already created
 * (empty) file `toPath`. Where `qemu-img` is not installed the disk is moved there as it is and
 * `none` is returned; any other failure of `qemu-img` is `PROVIDER`. `from` is removed either way.
 */
export async function compressDisk(
  from: string,
  fromFormat: 'qcow2' | 'raw',
  toPath: string,
  signal?: AbortSignal,
): Promise<'qcow2' | 'none'> {
  try {
    // Absolute paths: qemu-img reads `a:b` as protocol `a` and `-x` as an option.
    const args = ['convert', '-c', '-f', fromFormat, '-O', 'qcow2', resolve(from), resolve(toPath)];
    await run('qemu-img', args, {
      ...(signal ? { signal } : {}),
      maxBuffer: 1 << 20,
    });
    return 'qcow2';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !signal?.aborted) {
      await rename(from, toPath);
      return 'none';
    }
    if (signal?.aborted) throw error;
    throw new VmkitError('PROVIDER', `qemu-img could not compress the master disk: ${String(error)}`, {
      cause: error,
    });
  } finally {
    await rm(from, { force: true });
  }
}
