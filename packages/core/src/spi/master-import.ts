import type { MasterSpec } from '../model/master-spec.js';
import type { OperationOptions } from '../util/progress.js';
import type { MasterRef } from './master-build.js';

/** What {@link ProviderMasterImport.importMasterDisk} is told about the file it adopts. */
export interface MasterDiskImport {
  /** Format the file claims to be; the provider checks it before anything reads the disk. */
  readonly format: 'qcow2' | 'raw';
  /** The spec the disk was built from (kernel masters also need its kernel, initrd and cmdline). */
  readonly spec: MasterSpec;
}

/**
 * Optional part of the provider SPI: adopting a master's boot disk from a local file (a master
 * another host built and shared through the blob store) instead of building it. A provider without
 * it still works; `shareMasters` then only publishes from it and always builds.
 */
export interface ProviderMasterImport {
  /**
   * Registers the disk in `fromPath` as the master `masterName` and returns its reference, as if a
   * build had made it. The file is untrusted: the provider checks it with its image rules (format
   * as claimed, no backing or data files, sane sizes) and throws `CORRUPT` or `INVALID_ARGUMENT`
   * before the hypervisor reads it. The file is only read; on failure or abort nothing of the
   * master remains.
   */
  importMasterDisk?(
    masterName: string,
    fromPath: string,
    disk: MasterDiskImport,
    options?: OperationOptions,
  ): Promise<MasterRef>;
}
