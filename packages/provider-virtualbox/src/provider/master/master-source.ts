import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BootIsoSource, DiskSource, IsoSource } from '@vmkit/core/spi';
import {
  fetchMasterDisk,
  fetchSourceFile,
  type ProviderBootIsoCache,
  qemuImgConverter,
} from '@vmkit/imaging';

/** A local file for a source, and whether vmkit made it (and so must delete it). */
export interface LocalFile {
  readonly path: string;
  readonly owned: boolean;
}

/** Where a build may put files and how it runs tools. */
export interface SourceContext {
  readonly machineFolder: string;
  readonly qemuImg: string;
  /** Base name for files this build makes. */
  readonly base: string;
  readonly signal?: AbortSignal;
}

/**
 * The local file of a `path` or `url` source (imaging's `fetchSourceFile`: absolute path,
 * SHA-256 checked); an http(s) URL is downloaded into the machine folder as `<base>.<ext>`.
 */
export async function localSource(
  source: DiskSource | IsoSource | BootIsoSource,
  ctx: SourceContext,
  ext: string,
): Promise<LocalFile> {
  const file = await fetchSourceFile(source, {
    downloadTo: join(ctx.machineFolder, `${ctx.base}.${ext}`),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  return { path: file.path, owned: file.owned };
}

/**
 * The disk VirtualBox opens for a `disk` source (imaging's `fetchMasterDisk`): VDI, VMDK and VHD
 * as they are; qcow2, raw and VHDX converted to VDI in the machine folder.
 */
export async function prepareDisk(source: DiskSource, ctx: SourceContext): Promise<LocalFile> {
  const disk = await fetchMasterDisk(source, {
    native: ['vdi', 'vmdk', 'vhd'],
    convertTo: 'vdi',
    downloadTo: join(ctx.machineFolder, `${ctx.base}.img`),
    convertedTo: join(ctx.machineFolder, `${ctx.base}.vdi`),
    converter: qemuImgConverter({ binary: ctx.qemuImg }),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  return { path: disk.path, owned: disk.owned };
}

/**
 * The installer ISO with `kernelParams` added to every isolinux, GRUB and EFI-image kernel line,
 * through the provider's boot ISO cache (an ISO remastered with the same parameters before is not
 * remastered again), written beside the master as `<base><suffix>.iso` and owned by the build
 * (removed with its other temporary files). A downloaded original is removed once copied.
 */
export async function withKernelParams(
  iso: LocalFile,
  kernelParams: string,
  ctx: SourceContext,
  bootIsos: ProviderBootIsoCache,
  suffix = '-installer',
): Promise<LocalFile> {
  const output = join(ctx.machineFolder, `${ctx.base}${suffix}.iso`);
  try {
    await bootIsos.remasterTo(iso.path, kernelParams, output, ctx.signal ? { signal: ctx.signal } : {});
  } finally {
    if (iso.owned) await rm(iso.path, { force: true });
  }
  return { path: output, owned: true };
}
