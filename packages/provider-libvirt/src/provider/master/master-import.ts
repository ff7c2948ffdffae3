import type { OperationOptions } from '@vmkit/core/spi';
import {
  emitProgress,
  type MasterDiskImport,
  type MasterRef,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core/spi';
import { assertSafeImage, inspectImage } from '@vmkit/imaging';
import { deleteLeftoverVolume } from '../host/volume-cleanup.js';
import type { LibvirtContext, LibvirtMasterData } from '../libvirt-context.js';
import { masterNames } from './build-state.js';
import { uploadBootFiles } from './installer-media.js';
import { createMasterNvram, withNvram } from './master-nvram.js';

/**
 * Adopts a master disk from a local file (a master another host built and shared): its headers
 * are inspected and refused by the image inspector's rules (format as claimed, qcow2 or raw only,
 * no backing or data file, no truncation) before libvirt reads it; then it is uploaded into the
 * pool as the master's volume, named as a build of `masterName` would name it. Kernel masters also
 * get the spec's kernel and initrd, EFI masters a fresh NVRAM volume. On failure or abort every volume made is deleted.
 */
export async function importLibvirtMaster(
  ctx: LibvirtContext,
  masterName: string,
  fromPath: string,
  disk: MasterDiskImport,
  options: OperationOptions = {},
): Promise<MasterRef> {
  const source = disk.spec.source;
  if (source.type === 'bootIso')
    throw new VmkitError('UNSUPPORTED', `a bootIso master is a live ISO: it has no disk to import`, {
      details: { master: masterName, rule: 'boot-iso' },
    });
  const info = await inspectImage(fromPath, options.signal ? { signal: options.signal } : {});
  assertSafeImage(info, { field: 'disk', formats: ['qcow2', 'raw'], format: disk.format });
  const format = info.format === 'qcow2' ? 'qcow2' : 'raw';
  const virtualSize = format === 'qcow2' ? info.virtualSize : info.fileSize;
  const names = masterNames(ctx.options.namePrefix, masterName);
  if (await ctx.storage.find(names.volume))
    throw new VmkitError('CONFLICT', `master ${masterName}: volume ${names.volume} already exists`, {
      details: { master: masterName, volume: names.volume },
    });
  const made: string[] = [];
  try {
    throwIfAborted(options.signal, `import of master ${masterName}`);
    made.push(names.volume);
    await ctx.storage.createFromFile(names.volume, fromPath, format, virtualSize, {
      ...(options.signal ? { signal: options.signal } : {}),
      onBytes: (n) =>
        emitProgress(options.onProgress, {
          phase: 'transfer',
          imageId: disk.spec.id,
          step: 'import',
          fraction: Math.min(1, n / Math.max(1, info.fileSize)),
          message: `importing master ${masterName}: ${n} bytes`,
        }),
    });
    const volumes = [names.volume];
    let kernel: Partial<LibvirtMasterData> = {};
    if (source.type === 'kernel') {
      const files = await uploadBootFiles(ctx, source.kernel, source.initrd, names, (v) => made.push(v), {
        signal: options.signal,
      });
      volumes.push(...files.volumes);
      kernel = { ...files.ref, cmdline: ctx.options.nodeCmdline(source.cmdline ?? '') };
    }
    // An EFI master's NVRAM is not shared: the adopting host starts it from OVMF's template.
    const nvram =
      disk.spec.hardware?.firmware === 'efi'
        ? await createMasterNvram(ctx, names, (v) => made.push(v), options.signal)
        : undefined;
    throwIfAborted(options.signal, `import of master ${masterName}`);
    const data: LibvirtMasterData = {
      pool: ctx.storage.name,
      volume: names.volume,
      format,
      capacityBytes: virtualSize,
      boot: source.type === 'kernel' ? 'kernel' : 'disk',
      ...kernel,
      volumes,
    };
    return { id: names.volume, data: withNvram(data, nvram) };
  } catch (error) {
    for (const v of made) await deleteLeftoverVolume(ctx, v, `rolling back the import of ${masterName}`);
    throw error;
  }
}
