import { rename, rm } from 'node:fs/promises';
import { VmkitError } from '@vmkit/core/spi';
import { qemuImgConverter } from '@vmkit/imaging';

/**
 * Rewrites a downloaded master disk as a qcow2 with compressed clusters (imaging's converter,
 * `-c -O qcow2`, zlib), a standalone image any qemu reads without unpacking, into the file
 * `toPath`. Where `qemu-img` is not installed the disk is moved there as it is and `none` is
 * returned; any other failure is the converter's error. `from` is removed either way.
 */
export async function compressDisk(
  from: string,
  fromFormat: 'qcow2' | 'raw',
  toPath: string,
  signal?: AbortSignal,
): Promise<'qcow2' | 'none'> {
  try {
    await qemuImgConverter().convert({
      input: from,
      inputFormat: fromFormat,
      output: toPath,
      outputFormat: 'qcow2',
      compress: true,
      field: 'master disk',
      ...(signal ? { signal } : {}),
    });
    return 'qcow2';
  } catch (error) {
    if (VmkitError.is(error, 'UNSUPPORTED') && error.details.missing === true && !signal?.aborted) {
      await rename(from, toPath);
      return 'none';
    }
    throw error;
  } finally {
    await rm(from, { force: true });
  }
}
