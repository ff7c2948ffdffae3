import { stat } from 'node:fs/promises';
import { throwIfAborted, VmkitError } from '@vmkit/core/spi';
import { contentSize, type IsoBootImage } from '../iso9660/boot/iso-boot-options.js';
import { ISO_MAX_FILE_SIZE } from '../iso9660/iso-options.js';
import { writeIso9660ToFile } from '../iso9660/iso-writer.js';
import { type Iso9660Reader, readIso9660 } from '../iso9660/read/iso-reader.js';
import type { MediaEntry, MediaSource } from '../media-entry.js';
import { fromFileRange } from '../util/file-range.js';
import { bootConfigKind, patchBootConfigBytes } from './boot-configs.js';
import { checksumListAlgorithm, updateChecksumList } from './checksum-lists.js';
import { patchEfiImage } from './efi-image.js';
import {
  type RemasterBootIsoOptions,
  type RemasterResult,
  type ResolvedRemasterOptions,
  resolveRemasterOptions,
} from './remaster-options.js';
import { readSourceBoot } from './source-boot.js';

const SECTOR = 2048;
const MAX_CONFIG = 1024 * 1024;
const MAX_EFI_IMAGE = 256 * 1024 * 1024;

/**
 * Adds kernel parameters to a bootable ISO and writes a new ISO that boots the same ways: every
 * isolinux/syslinux `.cfg`, every `grub.cfg` and `loopback.cfg` in the ISO and every `grub.cfg`
 * inside its EFI boot images (FAT, read and rewritten) get the parameters on each kernel line
 * (`append`, `linux`, `linuxefi`) before a standalone `--`/`---`. Everything else is kept: file
 * data (streamed from the source, never held in memory), boot images at their paths with their
 * El Torito entries and patches, the hybrid MBR/GPT system area, the volume identifier and dates.
 * `md5sum.txt`/`sha256sum.txt` lines of changed files are updated.
 *
 * @throws `INVALID_ARGUMENT` naming the parameter or option (checked before anything is read);
 * `UNSUPPORTED` when the ISO has no boot configuration (naming what was found) or boots in a way
 * that cannot be carried over; `CORRUPT` for a malformed ISO; `ABORTED`. Nothing is left at
 * `output` on failure.
 */
export async function remasterBootIso(options: RemasterBootIsoOptions): Promise<RemasterResult> {
  const opts = resolveRemasterOptions(options);
  try {
    const info = await stat(opts.source);
    if (!info.isFile())
      throw new VmkitError('INVALID_ARGUMENT', `source: ${opts.source} is not a regular file`);
  } catch (error) {
    if (error instanceof VmkitError) throw error;
    throw new VmkitError('NOT_FOUND', `source: cannot read ${opts.source}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  throwIfAborted(opts.signal, 'remastering boot ISO');
  const reader = await readIso9660(opts.source, opts.signal ? { signal: opts.signal } : {});
  const boot = await readSourceBoot(opts.source, reader);
  const changed = new Map<string, Uint8Array>();
  const patched = await patchConfigs(reader, opts, boot.images, changed);
  await updateChecksums(reader, changed);
  const added = new Set(opts.files.map((f) => f.path));
  const entries = [
    ...copyEntries(reader, opts.source, boot.catalogPath, changed).filter((e) => !added.has(e.path)),
    ...opts.files,
  ];
  throwIfAborted(opts.signal, 'remastering boot ISO');
  const primary = reader.primary;
  const written = await writeIso9660ToFile(entries, opts.output, {
    volumeId: opts.volumeId ?? (reader.volumeId || 'CDROM'),
    joliet: reader.joliet !== undefined,
    rockRidge: reader.rockRidge,
    isoLevel: 2,
    publisher: printable(primary.publisher, 128),
    preparer: printable(primary.preparer, 128),
    applicationId: printable(primary.applicationId, 128),
    systemId: printable(primary.systemId, 32),
    volumeSetId: printable(primary.volumeSetId, 128),
    ...(primary.created ? { timestamp: primary.created } : {}),
    volumeDates: boot.volumeDates,
    boot: {
      images: boot.images.map((image) => {
        const patched = image.content ? changed.get(image.image) : undefined;
        return patched ? { ...image, content: patched } : image;
      }),
      catalogPath: boot.catalogPath,
      ...(boot.hybrid ? { hybrid: boot.hybrid } : {}),
    },
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  return Object.freeze({
    patched: Object.freeze(patched),
    bootEntries: Object.freeze(
      boot.images.map((i) => Object.freeze({ platform: i.platform, image: i.image })),
    ),
    bytes: written.size,
  });
}

function printable(text: string, max: number): string {
  return text.replace(/[^\x20-\x7e]/g, '_').slice(0, max);
}

async function patchConfigs(
  reader: Iso9660Reader,
  opts: ResolvedRemasterOptions,
  images: readonly IsoBootImage[],
  changed: Map<string, Uint8Array>,
): Promise<string[]> {
  const patched: string[] = [];
  const found: string[] = [];
  let kernelLines = 0;
  for (const file of reader.files) {
    const kind = file.type === 'file' ? bootConfigKind(file.path) : undefined;
    if (!kind || file.size > MAX_CONFIG) continue;
    found.push(file.path);
    const result = patchBootConfigBytes(await reader.readFile(file.path), kind, opts.add, opts.remove);
    kernelLines += result.kernelLines;
    if (result.bytes) {
      changed.set(file.path, result.bytes);
      patched.push(file.path);
    }
  }
  const efiImages = new Map(images.filter((i) => i.platform === 'efi').map((i) => [i.image, i]));
  for (const [path, image] of efiImages) {
    const file = reader.files.find((f) => f.path === path);
    const size = image.content ? contentSize(image.content) : file?.size;
    if (size === undefined || size > MAX_EFI_IMAGE) continue;
    const bytes = image.content ? await readContent(image.content, opts.signal) : await reader.readFile(path);
    const result = await patchEfiImage(bytes, opts.add, opts.remove);
    found.push(...result.found.map((p) => `${path}:/${p}`));
    kernelLines += result.kernelLines;
    if (result.bytes) changed.set(path, result.bytes);
    patched.push(...result.patched.map((p) => `${path}:/${p}`));
  }
  if (kernelLines === 0) {
    const what =
      found.length > 0
        ? `found ${found.join(', ')} but no kernel line in them`
        : 'found no isolinux, syslinux or GRUB configuration';
    throw new VmkitError('UNSUPPORTED', `no boot configuration to patch: ${what}`, { details: { found } });
  }
  return patched;
}

async function readContent(content: Uint8Array | MediaSource, signal?: AbortSignal): Promise<Uint8Array> {
  if (content instanceof Uint8Array) return content;
  const out = new Uint8Array(content.size);
  let off = 0;
  for await (const chunk of content.open(signal)) {
    out.set(chunk.subarray(0, Math.max(0, out.length - off)), off);
    off += chunk.length;
  }
  return out;
}

async function updateChecksums(reader: Iso9660Reader, changed: Map<string, Uint8Array>): Promise<void> {
  const lists = reader.files.filter(
    (f) => f.type === 'file' && f.size <= 16 * MAX_CONFIG && checksumListAlgorithm(f.path),
  );
  const updates = new Map<string, Uint8Array>();
  for (const list of lists) {
    const text = Buffer.from(await reader.readFile(list.path)).toString('latin1');
    const next = updateChecksumList(text, list.path, checksumListAlgorithm(list.path) as string, changed);
    if (next !== undefined) updates.set(list.path, new Uint8Array(Buffer.from(next, 'latin1')));
  }
  for (const [path, bytes] of updates) changed.set(path, bytes);
}

function copyEntries(
  reader: Iso9660Reader,
  source: string,
  catalogPath: string,
  changed: ReadonlyMap<string, Uint8Array>,
): MediaEntry[] {
  const entries: MediaEntry[] = [];
  for (const file of reader.files) {
    if (file.path === catalogPath) continue;
    const common = {
      path: file.path,
      mtime: file.mtime,
      ...(file.mode !== undefined ? { mode: file.mode } : {}),
    };
    if (file.type === 'directory') entries.push({ ...common, type: 'directory' });
    else if (file.type === 'symlink') entries.push({ ...common, type: 'symlink', target: file.target ?? '' });
    else {
      const content = changed.get(file.path);
      if (content) entries.push({ ...common, content });
      else if (file.size === 0) entries.push({ ...common, content: new Uint8Array(0) });
      else {
        if (file.extents.length !== 1 || file.size > ISO_MAX_FILE_SIZE)
          throw new VmkitError(
            'UNSUPPORTED',
            `'${file.path}' spans several extents (files over 4 GiB are not supported)`,
          );
        const extent = file.extents[0] as { lba: number; size: number };
        entries.push({ ...common, content: fromFileRange(source, extent.lba * SECTOR, file.size) });
      }
    }
  }
  return entries;
}
