import { open } from 'node:fs/promises';
import { VmkitError } from '../errors/vmkit-error.js';
import type { ProviderMasterImport } from '../spi/master-import.js';
import { throwIfAborted } from '../util/abort.js';
import { MEMORY_EXPORT_BYTES } from './memory-master-export.js';
import type { MemoryProviderState } from './memory-provider-state.js';

const MARKER = 'vmkit memory master ';

/**
 * The memory provider's optional `importMasterDisk`. Its image rules stand in for the image
 * inspector's, strictly: only headers are read, and the file must be what the memory provider
 * exports (raw, 1 MiB, starting with its marker); a qcow2 or any other header, another size or
 * another claimed format is `CORRUPT` and nothing is registered.
 */
export function memoryMasterImport(
  state: MemoryProviderState,
  onImport: () => void,
): Required<ProviderMasterImport> {
  return {
    async importMasterDisk(masterName, fromPath, disk, options = {}) {
      throwIfAborted(options.signal, `import of master ${masterName}`);
      if (state.read((d) => d.masters[masterName]))
        throw new VmkitError('CONFLICT', `master ${masterName} already exists`, {
          details: { master: masterName },
        });
      const file = await open(fromPath, 'r');
      let header: string;
      let size: number;
      try {
        size = (await file.stat()).size;
        const buffer = Buffer.alloc(64);
        const { bytesRead } = await file.read(buffer, 0, 64, 0);
        header = buffer.subarray(0, bytesRead).toString('latin1');
      } finally {
        await file.close();
      }
      const found = header.startsWith('QFI\xfb') ? 'qcow2' : header.startsWith(MARKER) ? 'raw' : 'unknown';
      if (found !== disk.format)
        throw unsafe(masterName, `claims format ${disk.format} but its header is ${found}`, 'format');
      if (size !== MEMORY_EXPORT_BYTES)
        throw unsafe(masterName, `is ${size} bytes, a memory master disk is ${MEMORY_EXPORT_BYTES}`, 'size');
      throwIfAborted(options.signal, `import of master ${masterName}`);
      state.mutate((d) => {
        d.masters[masterName] = {
          name: masterName,
          imageId: disk.spec.id,
          ready: true,
          steps: ['import'],
          createdAt: new Date().toISOString(),
        };
        d.disks[`master:${masterName}`] = {};
      });
      onImport();
      return { id: masterName, data: { disk: `master:${masterName}` } };
    },
  };
}

function unsafe(masterName: string, what: string, rule: string): VmkitError {
  return new VmkitError('CORRUPT', `disk for master ${masterName} ${what}`, {
    details: { master: masterName, rule },
  });
}
