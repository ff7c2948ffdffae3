import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { downloadFile, invalidArgument, VmkitError } from '@vmkit/core/spi';
import { assertSafeImage, formatSatisfies, inspectImage } from '@vmkit/imaging';

const run = promisify(execFile);

/** A local file ready to upload as a master disk. */
export interface PreparedDisk {
  readonly file: string;
  readonly format: 'qcow2' | 'raw';
  readonly virtualSize: number;
  /** Removes temporary files made for it. */
  cleanup(): Promise<void>;
}

/**
 * Resolves a `path` or `url` (`file:`, `http:`, `https:`) to an absolute local file, downloading
 * if needed with core's `downloadFile` (no https-to-http redirect, at most `source.maxBytes`).
 * A relative path is resolved against the working directory here, so no tool later reads a `:`
 * in it as a protocol or a leading `-` as an option.
 */
export async function localFile(
  source: { path?: string; url?: string; maxBytes?: number },
  field: string,
  signal?: AbortSignal,
): Promise<{ file: string; cleanup(): Promise<void> }> {
  if (source.path) return { file: resolve(source.path), cleanup: async () => {} };
  if (!source.url) throw invalidArgument(field, 'needs a path or a url');
  const url = new URL(source.url);
  if (url.protocol === 'file:') return { file: fileURLToPath(url), cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-src-'));
  const file = join(dir, 'download');
  try {
    // Streamed to the temporary file: an image never sits in memory whole.
    await downloadFile(url, file, {
      field: `${field}.url`,
      maxBytesField: `${field}.maxBytes`,
      ...(source.maxBytes === undefined ? {} : { maxBytes: source.maxBytes }),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Throws `CORRUPT` unless the file's SHA-256 is `expected`. */
export async function verifySha256(file: string, expected: string | undefined): Promise<void> {
  if (!expected) return;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const got = hash.digest('hex');
  if (got !== expected.toLowerCase()) {
    throw new VmkitError('CORRUPT', `sha256 of ${file} is ${got}, expected ${expected}`, {
      details: { file },
    });
  }
}

/** Formats a `disk` master source may have (after inspection; `raw` also covers ISO and GPT disks). */
export const MASTER_DISK_FORMATS = ['qcow2', 'raw', 'vmdk', 'vhd', 'vhdx', 'vdi'] as const;

/**
 * Prepares a disk image for upload. Its headers are inspected first ({@link inspectImage}) and
 * refused by {@link assertSafeImage}'s rules (backing or data files, VMDK extents naming paths,
 * QED, several formats, a claimed `format` that is not the one found, truncated headers) before
 * `qemu-img` or libvirt reads it. qcow2 and raw go as they are; vmdk, vdi, vhd and vhdx are
 * converted to qcow2 with `qemu-img`, the found format given explicitly.
 */
export async function prepareDisk(
  given: string,
  format?: string,
  signal?: AbortSignal,
): Promise<PreparedDisk> {
  // Absolute before qemu-img sees it: `a:b.vmdk` would read as protocol `a`, `-x` as an option.
  const file = resolve(given);
  const info = await inspectImage(file, signal ? { signal } : {});
  assertSafeImage(info, { field: 'source', formats: MASTER_DISK_FORMATS, ...(format ? { format } : {}) });
  if (info.format === 'qcow2')
    return { file, format: 'qcow2', virtualSize: info.virtualSize, cleanup: async () => {} };
  if (formatSatisfies('raw', info.format))
    return { file, format: 'raw', virtualSize: info.fileSize, cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-conv-'));
  const out = join(dir, 'disk.qcow2');
  const qemuFormat = info.format === 'vhd' ? 'vpc' : info.format;
  try {
    await run('qemu-img', ['convert', '-f', qemuFormat, '-O', 'qcow2', file, out], signal ? { signal } : {});
    const prepared = await prepareDisk(out, 'qcow2', signal);
    return { ...prepared, cleanup: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    if (VmkitError.is(error)) throw error;
    throw new VmkitError('PROVIDER', `qemu-img could not convert ${file} from ${info.format}`, {
      cause: error,
    });
  }
}
