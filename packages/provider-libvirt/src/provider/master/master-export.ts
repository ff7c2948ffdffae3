import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  emitProgress,
  type MasterDiskExport,
  type MasterDiskExportOptions,
  type MasterRef,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core/spi';
import type { LibvirtContext } from '../libvirt-context.js';
import { compressDisk } from './compress-disk.js';
import { checkLibvirtMasterRef } from './master-ref-check.js';

/**
 * Copies a master's root disk volume (a disk master's, or a kernel master's root disk) out of the
 * pool to the new file `toPath` through the storage API (`STORAGE_VOL_DOWNLOAD`, so remote
 * daemons work), as stored: a standalone qcow2 or raw. A live boot ISO master has no disk
 * (`UNSUPPORTED`). With `compress`, the download is staged beside `toPath` and rewritten as a
 * qcow2 with compressed clusters (see {@link compressDisk}). A partial file is removed on failure
 * or abort.
 */
export async function exportLibvirtMaster(
  ctx: LibvirtContext,
  ref: MasterRef,
  toPath: string,
  options: MasterDiskExportOptions = {},
): Promise<MasterDiskExport> {
  const data = checkLibvirtMasterRef(ctx.options, ref, undefined, { refOnly: true });
  if (data.boot === 'cdrom')
    throw new VmkitError('UNSUPPORTED', `master ${ref.id} is a live boot ISO: it has no disk to export`, {
      details: { master: ref.id, rule: 'boot-iso' },
    });
  throwIfAborted(options.signal, `export of master ${ref.id}`);
  const name = data.volume;
  const vol = await ctx.storage.find(name);
  if (!vol)
    throw new VmkitError('NOT_FOUND', `master ${ref.id}: volume ${name} is not in the pool`, {
      details: { master: ref.id, volume: name },
    });
  // Its allocation approximates the bytes a download sends (the file, holes aside).
  const { allocation } = await ctx.client.storage.volGetInfo(vol);
  const report = (bytes: number) =>
    emitProgress(options.onProgress, {
      phase: 'transfer',
      ...(allocation > 0 ? { fraction: Math.min(1, bytes / allocation) } : {}),
      message: `exporting master ${ref.id}: ${bytes} bytes`,
    });
  // Open the file first: an existing file is refused before the daemon sends anything. A guest's
  // disk holds its users' secrets: the copy is the owner's only.
  const file = createWriteStream(toPath, { flags: 'wx', mode: 0o600 });
  let staging: string | undefined;
  try {
    await new Promise<void>((resolve, reject) => file.once('open', () => resolve()).once('error', reject));
    const download = await ctx.client.storage.volDownload(
      vol,
      { offset: 0, length: 0 },
      { ...(options.signal ? { signal: options.signal } : {}), onBytes: report },
    );
    const format = data.format;
    if (!options.compress) {
      await pipeline(download, file, options.signal ? { signal: options.signal } : {});
      return { format, bytes: (await stat(toPath)).size, compression: 'none' };
    }
    file.end();
    staging = await mkdtemp(join(dirname(toPath), '.vmkit-export-'));
    const raw = join(staging, 'download');
    await pipeline(
      download,
      createWriteStream(raw, { flags: 'wx', mode: 0o600 }),
      options.signal ? { signal: options.signal } : {},
    );
    const compression = await compressDisk(raw, format, toPath, options.signal);
    return {
      format: compression === 'qcow2' ? 'qcow2' : format,
      bytes: (await stat(toPath)).size,
      compression,
    };
  } catch (error) {
    file.destroy();
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') await rm(toPath, { force: true });
    throw error;
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true });
  }
}
