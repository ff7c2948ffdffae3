import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { BootIsoSource, DiskSource, IsoSource } from '@vmkit/core/spi';
import { downloadFile, invalidArgument, throwIfAborted, VmkitError } from '@vmkit/core/spi';
import { assertSafeImage, inspectImage, remasterBootIso } from '@vmkit/imaging';

/** Disk formats VirtualBox opens as they are. */
const NATIVE = new Set(['vdi', 'vmdk', 'vhd']);
/** Formats vmkit converts to VDI with qemu-img first. */
const CONVERTED = new Set(['qcow2', 'raw', 'vhdx']);

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
 * The local file of a `path` or `url` source, as an absolute path (a relative path is resolved
 * here, so neither qemu-img nor VirtualBox reads a `:` in it as a protocol or a leading `-` as an
 * option); an http(s) URL is downloaded into the machine folder with core's `downloadFile` (no
 * https-to-http redirect, at most `source.maxBytes`).
 */
export async function localSource(
  source: DiskSource | IsoSource | BootIsoSource,
  ctx: SourceContext,
  ext: string,
): Promise<LocalFile> {
  let file: LocalFile;
  if (source.path) file = { path: resolve(source.path), owned: false };
  else if (source.url?.startsWith('file:')) file = { path: resolve(fileURLToPath(source.url)), owned: false };
  else if (source.url && /^https?:/.test(source.url))
    file = await download(source, join(ctx.machineFolder, `${ctx.base}.${ext}`), ctx.signal);
  else throw invalidArgument('source.path', 'give a path, or a file:, http: or https: url');
  const info = await stat(file.path).catch(() => undefined);
  if (!info?.isFile()) throw invalidArgument('source.path', `no file at ${file.path}`);
  if (source.sha256) await verifySha256(file, source.sha256, ctx.signal);
  return file;
}

async function download(
  source: { readonly url?: string; readonly maxBytes?: number },
  path: string,
  signal?: AbortSignal,
): Promise<LocalFile> {
  // vmkit's own name in its machine folder: a file left by an earlier try is replaced.
  await rm(path, { force: true });
  await downloadFile(source.url as string, path, {
    field: 'source.url',
    maxBytesField: 'source.maxBytes',
    ...(source.maxBytes === undefined ? {} : { maxBytes: source.maxBytes }),
    ...(signal ? { signal } : {}),
  });
  return { path, owned: true };
}

async function verifySha256(file: LocalFile, expected: string, signal?: AbortSignal): Promise<void> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file.path), hash, signal ? { signal } : {});
  const actual = hash.digest('hex');
  if (actual !== expected.toLowerCase()) {
    if (file.owned) await rm(file.path, { force: true });
    throw new VmkitError('CORRUPT', `source.sha256: ${file.path} has sha256 ${actual}, expected ${expected}`);
  }
}

function run(cmd: string, args: readonly string[], signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...(signal ? { signal } : {}) });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}: ${stderr.trim()}`)),
    );
  });
}

/**
 * The disk VirtualBox opens for a `disk` source: VDI, VMDK and VHD as they are; qcow2, raw and
 * VHDX converted to VDI in the machine folder with `qemu-img convert` (refused clearly when
 * qemu-img is missing).
 */
export async function prepareDisk(source: DiskSource, ctx: SourceContext): Promise<LocalFile> {
  const file = await localSource(source, ctx, 'img');
  let detected: string;
  try {
    // Headers only, before VirtualBox or qemu-img read the file: a VMDK extent or backing file
    // naming a host file, QED, a claimed format that is not the real one... are refused by rule.
    const info = await inspectImage(file.path, ctx.signal ? { signal: ctx.signal } : {});
    assertSafeImage(info, { ...(source.format ? { format: source.format } : {}), field: 'source' });
    detected = info.format === 'iso' || info.format === 'gpt' ? 'raw' : info.format;
  } catch (error) {
    if (file.owned) await rm(file.path, { force: true });
    throw error;
  }
  if (NATIVE.has(detected)) return file;
  if (!CONVERTED.has(detected))
    throw new VmkitError('UNSUPPORTED', `source.format: ${detected} disks are not supported`);
  const out = join(ctx.machineFolder, `${ctx.base}.vdi`);
  throwIfAborted(ctx.signal, 'disk conversion');
  try {
    // Both paths absolute (localSource resolved the source; `out` is resolved here).
    await run(ctx.qemuImg, ['convert', '-f', detected, '-O', 'vdi', file.path, resolve(out)], ctx.signal);
  } catch (error) {
    await rm(out, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new VmkitError(
        'UNSUPPORTED',
        `source.format: ${detected} disks must be converted to VDI with qemu-img, which was not found (${ctx.qemuImg}); install qemu-utils or give a VDI, VMDK or VHD disk`,
        { cause: error },
      );
    throw new VmkitError('PROVIDER', `source: qemu-img could not convert ${file.path} to VDI`, {
      cause: error,
    });
  } finally {
    if (file.owned) await rm(file.path, { force: true });
  }
  return { path: out, owned: true };
}

/**
 * The installer ISO with `kernelParams` added to every isolinux, GRUB and EFI-image kernel line
 * (`remasterBootIso`), written beside the master as `<base><suffix>.iso` and owned by the build
 * (removed with its other temporary files). A downloaded original is removed once copied.
 */
export async function withKernelParams(
  iso: LocalFile,
  kernelParams: string,
  ctx: SourceContext,
  suffix = '-installer',
): Promise<LocalFile> {
  const output = join(ctx.machineFolder, `${ctx.base}${suffix}.iso`);
  try {
    await remasterBootIso({
      source: iso.path,
      output,
      kernelParams,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } finally {
    if (iso.owned) await rm(iso.path, { force: true });
  }
  return { path: output, owned: true };
}
