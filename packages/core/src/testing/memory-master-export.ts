import { rm, writeFile } from 'node:fs/promises';
import { VmkitError } from '../errors/vmkit-error.js';
import type { MasterDiskExport, ProviderMasterExport } from '../spi/master-export.js';
import { throwIfAborted } from '../util/abort.js';
import type { MemoryProviderState } from './memory-provider-state.js';

/** Size of the raw disk the memory provider exports for every master. */
export const MEMORY_EXPORT_BYTES = 1024 * 1024;

/**
 * The bytes of a memory master's exported disk: its name at offset 0, zeros after, so tests can
 * tell which master an export came from.
 */
export function memoryMasterDisk(masterName: string): Uint8Array {
  const bytes = new Uint8Array(MEMORY_EXPORT_BYTES);
  bytes.set(new TextEncoder().encode(`vmkit memory master ${masterName}\n`));
  return bytes;
}

/** The memory provider's optional `exportMasterDisk`: a ready master exports as a 1 MiB raw file. */
export function memoryMasterExport(state: MemoryProviderState): Required<ProviderMasterExport> {
  return {
    async exportMasterDisk(ref, toPath, options = {}): Promise<MasterDiskExport> {
      throwIfAborted(options.signal, `export of master ${ref.id}`);
      if (!state.read((d) => d.masters[ref.id]?.ready))
        throw new VmkitError('NOT_FOUND', `master ${ref.id} does not exist`, { details: { master: ref.id } });
      try {
        await writeFile(toPath, memoryMasterDisk(ref.id), { flag: 'wx', signal: options.signal });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') await rm(toPath, { force: true });
        throw error;
      }
      // The memory provider has no qemu-img: it never compresses, and says so.
      return { format: 'raw', bytes: MEMORY_EXPORT_BYTES, compression: 'none' };
    },
  };
}
