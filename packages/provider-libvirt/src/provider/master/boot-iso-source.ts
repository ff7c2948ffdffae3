import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BootIsoSource, BuildContext } from '@vmkit/core/spi';
import { remasterBootIso } from '@vmkit/imaging';
import type { LibvirtContext, LibvirtMasterData } from '../libvirt-context.js';
import { localFile, verifySha256 } from './master-source.js';

/**
 * The installer ISO to upload: `file` itself, or when `kernelParams` are given a copy remastered
 * with them (every isolinux, GRUB and EFI-image kernel line), in a temporary directory that
 * `cleanup` removes.
 */
export async function withKernelParams(
  file: string,
  kernelParams: string | undefined,
  signal?: AbortSignal,
): Promise<{ file: string; cleanup(): Promise<void> }> {
  if (kernelParams === undefined) return { file, cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-iso-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const output = join(dir, 'installer.iso');
    await remasterBootIso({ source: file, output, kernelParams, ...(signal ? { signal } : {}) });
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
  const local = await localFile(source, 'source', c.signal);
  try {
    await verifySha256(local.file, source.sha256);
    const iso = await withKernelParams(local.file, source.kernelParams, c.signal);
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
    await local.cleanup();
  }
}
