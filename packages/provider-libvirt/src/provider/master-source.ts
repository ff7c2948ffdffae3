import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BootIsoSource, BuildContext } from '@vmkit/core';
import { invalidArgument, VmkitError } from '@vmkit/core';
import { remasterBootIso } from '@vmkit/imaging';
import type { LibvirtContext, LibvirtMasterData } from './libvirt-context.js';

const run = promisify(execFile);

/** A local file ready to upload as a master disk. */
export interface PreparedDisk {
  readonly file: string;
  readonly format: 'qcow2' | 'raw';
  readonly virtualSize: number;
  /** Removes temporary files made for it. */
  cleanup(): Promise<void>;
}

/** Resolves a `path` or `url` (`file:`, `http:`, `https:`) to a local file, downloading if needed. */
export async function localFile(
  source: { path?: string; url?: string },
  field: string,
  signal?: AbortSignal,
): Promise<{ file: string; cleanup(): Promise<void> }> {
  if (source.path) return { file: source.path, cleanup: async () => {} };
  if (!source.url) throw invalidArgument(field, 'needs a path or a url');
  const url = new URL(source.url);
  if (url.protocol === 'file:') return { file: fileURLToPath(url), cleanup: async () => {} };
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalidArgument(`${field}.url`, 'must be file:, http: or https:');
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-src-'));
  const file = join(dir, 'download');
  try {
    const res = await fetch(url, signal ? { signal } : {});
    if (!res.ok || !res.body)
      throw new VmkitError('PROVIDER', `download of ${url.href} failed: HTTP ${res.status}`);
    // Streamed to the temporary file: an image never sits in memory whole.
    await pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>),
      createWriteStream(file),
      signal ? { signal } : {},
    );
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

/**
 * Prepares a disk image for upload: raw and qcow2 go as they are (qcow2's virtual size read from
 * its header); other formats (vmdk, vdi, vhd, vhdx) are converted to qcow2 with `qemu-img`.
 */
export async function prepareDisk(file: string, format?: string): Promise<PreparedDisk> {
  const head = Buffer.alloc(QCOW2_HEADER_V3_SIZE);
  const fh = await open(file, 'r');
  let got: number;
  try {
    ({ bytesRead: got } = await fh.read(head, 0, head.length, 0));
  } finally {
    await fh.close();
  }
  const isQcow2 = got >= 32 && head.readUInt32BE(0) === QCOW2_MAGIC;
  const detected = format ?? (isQcow2 ? 'qcow2' : 'raw');
  if (detected === 'qcow2') {
    if (!isQcow2) throw new VmkitError('CORRUPT', `${file} is not a qcow2 image`);
    assertSelfContainedQcow2(head.subarray(0, got));
    return { file, format: 'qcow2', virtualSize: Number(head.readBigUInt64BE(24)), cleanup: async () => {} };
  }
  if (detected === 'raw')
    return { file, format: 'raw', virtualSize: (await stat(file)).size, cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-conv-'));
  const out = join(dir, 'disk.qcow2');
  const qemuFormat = detected === 'vhd' ? 'vpc' : detected;
  try {
    await run('qemu-img', ['convert', '-f', qemuFormat, '-O', 'qcow2', file, out]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new VmkitError('PROVIDER', `qemu-img could not convert ${file} from ${detected}`, { cause: error });
  }
  const prepared = await prepareDisk(out, 'qcow2');
  return { ...prepared, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const QCOW2_MAGIC = 0x514649fb;
/** Bytes of a version 3 qcow2 header up to and including `header_length`. */
const QCOW2_HEADER_V3_SIZE = 104;
/** Bit of `incompatible_features` saying the guest data lives in an external data file. */
const QCOW2_EXTERNAL_DATA_FILE = 1n << 2n;

/**
 * Refuses a qcow2 header that makes the image read another file: a backing file (its name is
 * resolved on the daemon's host, so an upload could expose any file there to the guest) or an
 * external data file. Masters must be self-contained; `qemu-img convert` flattens a chain.
 */
export function assertSelfContainedQcow2(header: Uint8Array): void {
  const h = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  if (h.length < 32 || h.readUInt32BE(0) !== QCOW2_MAGIC)
    throw invalidArgument('source', 'must be a qcow2 image');
  const version = h.readUInt32BE(4);
  if (version !== 2 && version !== 3)
    throw invalidArgument(
      'source',
      `must be a qcow2 image of version 2 or 3 (this one is version ${version})`,
    );
  if (h.readBigUInt64BE(8) !== 0n) {
    throw invalidArgument(
      'source',
      'must be a self-contained qcow2 image without a backing file (flatten it with qemu-img convert)',
    );
  }
  if (version === 3) {
    if (h.length < 80) throw invalidArgument('source', 'must be a qcow2 image with a complete header');
    if ((h.readBigUInt64BE(72) & QCOW2_EXTERNAL_DATA_FILE) !== 0n) {
      throw invalidArgument(
        'source',
        'must be a self-contained qcow2 image without an external data file (flatten it with qemu-img convert)',
      );
    }
  }
}

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
