import type { OperationOptions } from '../util/progress.js';
import type { MasterRef } from './master-build.js';

/** What {@link ProviderMasterExport.exportMasterDisk} wrote. */
export interface MasterDiskExport {
  /** Format of the file written: the master's own disk format, never converted by the provider. */
  readonly format: 'qcow2' | 'raw' | 'vmdk' | 'vdi' | 'vhd' | 'vhdx';
  /** Bytes written to the file. */
  readonly bytes: number;
  /** How the file is compressed: `qcow2` (compressed clusters, `qemu-img convert -c`) or `none`. */
  readonly compression?: 'qcow2' | 'none';
}

/** Options of {@link ProviderMasterExport.exportMasterDisk}. */
export interface MasterDiskExportOptions extends OperationOptions {
  /**
   * Asks for a compressed file where the provider can make one (a qcow2 with compressed clusters);
   * it says in {@link MasterDiskExport.compression} whether it did.
   */
  readonly compress?: boolean;
}

/**
 * Optional part of the provider SPI: copying a master's boot disk out of the hypervisor, which
 * `ComputeService.exportImageDisk` (and so `@vmkit/import`'s `exportImage`) uses. A provider
 * without it still works; exports of its masters are then `UNSUPPORTED`.
 */
export interface ProviderMasterExport {
  /**
   * Writes the master's boot disk, as stored (a standalone image, no backing file), to the new
   * file `toPath` and says its format. Masters with no disk (a live boot ISO) are `UNSUPPORTED`;
   * a gone master is `NOT_FOUND`. On failure or abort the partial file is removed. Nodes may run
   * from the master meanwhile: it is only read.
   */
  exportMasterDisk?(
    ref: MasterRef,
    toPath: string,
    options?: MasterDiskExportOptions,
  ): Promise<MasterDiskExport>;
}
