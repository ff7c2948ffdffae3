import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BootIsoSource, BuildContext } from '@vmkit/core/spi';
import { fetchSourceFile, type ProviderBootIsoCache } from '@vmkit/imaging';
import type { LibvirtContext, LibvirtMasterData } from '../libvirt-context.js';

/**
 * The installer ISO to upload: `file` itself, or when `kernelParams` are given a copy remastered
 * with them (every isolinux, GRUB and EFI-image kernel line) through the provider's boot ISO
 * cache (an ISO remastered with the same parameters before is not remastered again), in a
 * temporary directory that `cleanup` removes.
 */
export async function withKernelParams(
  bootIsos: ProviderBootIsoCache,
  file: string,
  kernelParams: string | undefined,
  signal?: AbortSignal,
): Promise<{ file: string; cleanup(): Promise<void> }> {
  if (kernelParams === undefined) return { file, cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-iso-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const output = join(dir, 'installer.iso');
    await bootIsos.remasterTo(file, kernelParams, output, signal ? { signal } : {});
    return { file: output, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * The `create-and-install` step of a `bootIso` master: the ISO (remastered with its kernel
 * parameters when given) uploaded as the master volume; nodes boot from it as a CD-ROM.
 */
export async function uploadBootIso(
  ctx: LibvirtContext,
  c: BuildContext,
  source: BootIsoSource,
  volume: string,
  track: (name: string) => void,
): Promise<LibvirtMasterData> {
  const local = await fetchSourceFile(source, { signal: c.signal });
  try {
    const iso = await withKernelParams(ctx.bootIsos, local.path, source.kernelParams, c.signal);
    try {
      c.progress(0.3, source.kernelParams ? 'boot ISO remastered' : 'boot ISO ready');
      const size = (await stat(iso.file)).size;
      await ctx.storage.assertFits([{ what: `volume ${volume}`, bytes: size }]);
      track(volume);
      await ctx.storage.createFromFile(volume, iso.file, 'raw', 0, {
        signal: c.signal,
        onBytes: (n) => c.progress(0.3 + 0.7 * Math.min(1, n / Math.max(1, size)), `uploaded ${n} bytes`),
      });
      return {
        pool: ctx.storage.name,
        volume,
        format: 'raw',
        capacityBytes: size,
        boot: 'cdrom',
        volumes: [volume],
      };
    } finally {
      await iso.cleanup();
    }
  } finally {
    await local.dispose();
  }
}
