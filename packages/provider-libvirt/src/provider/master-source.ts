import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { invalidArgument, VmkitError } from '@vmkit/core';

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
    if (!res.ok) throw new VmkitError('PROVIDER', `download of ${url.href} failed: HTTP ${res.status}`);
    await writeFile(file, new Uint8Array(await res.arrayBuffer()));
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
  const head = Buffer.alloc(32);
  const fh = await open(file, 'r');
  try {
    await fh.read(head, 0, 32, 0);
  } finally {
    await fh.close();
  }
  const isQcow2 = head.readUInt32BE(0) === 0x514649fb;
  const detected = format ?? (isQcow2 ? 'qcow2' : 'raw');
  if (detected === 'qcow2') {
    if (!isQcow2) throw new VmkitError('CORRUPT', `${file} is not a qcow2 image`);
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
