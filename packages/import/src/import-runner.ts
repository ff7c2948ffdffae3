import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MasterSpec } from '@vmkit/core';
import { VmkitError } from '@vmkit/core/spi';
import { assertSafeImage, inspectImage, normalizeFormat } from '@vmkit/imaging';
import type { Admission } from './admission-queue.js';
import { diskBlobName, removeDiskBlobs, uploadImageDisks } from './blob-images.js';
import { bootCheck } from './boot-check.js';
import { vagrantLogin } from './box/vagrant-login.js';
import { downloadMeter, fetchDisk, type LocalDisk } from './disk-fetch.js';
import { sha256File } from './hashing.js';
import type { ResolvedImportOptions } from './import-service-options.js';
import type { LiveTask } from './live-task.js';
import { moveFile } from './move-file.js';
import { sourceSize } from './source-fetch.js';
import { BOOT_MODE_FIRMWARE, type DiskContainer, type SnapshotDetail } from './task-model.js';
import type { ImageRecord } from './task-record.js';
import type { TaskRepository } from './task-repository.js';

/** What the import pipeline needs from the service. */
export interface ImportDeps {
  readonly options: ResolvedImportOptions;
  readonly repo: TaskRepository;
}

/** qemu's driver name of an inspected format. */
export function qemuFormat(format: string): string {
  return format === 'vhd' ? 'vpc' : format;
}

/** Upper bound of the scratch bytes a qcow2 of `virtualSize` takes (data plus metadata). */
export function qcow2Bound(virtualSize: number): number {
  return Math.ceil(virtualSize * 1.01) + 2 * 1024 * 1024;
}

/**
 * Scratch bytes an import needs, as far as can be told before it runs: local disk files are
 * inspected now (their qcow2 output bound); downloads, blobs and OVAs count their source size
 * (or `maxImageBytes` when unknown) and grow the reservation once inspected.
 */
export async function estimateImport(
  disks: readonly DiskContainer[],
  deps: ImportDeps,
  signal: AbortSignal,
): Promise<{ bytes: number; preReserved: Set<number>; sourceBytes: Map<number, number> }> {
  let bytes = 0;
  const preReserved = new Set<number>();
  const sourceBytes = new Map<number, number>();
  for (const [i, d] of disks.entries()) {
    if ('path' in d && !['ova', 'box'].includes(normalizeFormat(d.format))) {
      const info = await inspectImage(d.path, { signal });
      bytes += qcow2Bound(Math.min(info.virtualSize, deps.options.limits.maxImageBytes));
      preReserved.add(i);
    } else {
      // Unknown sizes (no Content-Length) reserve nothing now and grow as the bytes arrive.
      const size = await sourceSize(d, deps.options.store, signal).catch(() => undefined);
      bytes += Math.min(size ?? 0, deps.options.limits.maxImageBytes);
      sourceBytes.set(i, size ?? 0);
    }
  }
  return { bytes, preReserved, sourceBytes };
}

/** Runs an import task once admitted: fetch, validate, convert, register. `scratch` exists and is the task's. */
export async function runImport(
  task: LiveTask,
  scratch: string,
  admission: Admission,
  plan: { preReserved: ReadonlySet<number>; sourceBytes: ReadonlyMap<number, number> },
  deps: ImportDeps,
): Promise<ImageRecord | undefined> {
  const { preReserved } = plan;
  const { options } = deps;
  const r = task.record;
  const disks: LocalDisk[] = [];
  for (const [i, container] of r.disks.entries()) {
    const meter = downloadMeter(admission, plan.sourceBytes.get(i) ?? 0, `diskContainers[${i}]`);
    const got = await fetchDisk(task, container, i, scratch, meter, deps);
    disks.push(...got.map((d) => ({ ...d, reserved: preReserved.has(i) })));
  }
  const outputs: string[] = [];
  const snapshots: SnapshotDetail[] = [];
  for (const [i, disk] of disks.entries()) {
    const span = 80 / disks.length;
    const base = 15 + i * span;
    const field = `disk ${i} (${disk.source})`;
    await task.stage('validating', base, field);
    const info = await inspectImage(disk.file, { signal: task.signal });
    assertSafeImage(info, { format: disk.format, maxVirtualSize: options.limits.maxImageBytes, field });
    if (!disk.reserved && !admission.grow(qcow2Bound(info.virtualSize)))
      throw new VmkitError(
        'INVALID_ARGUMENT',
        `limits.scratchBytes: ${field} needs ${qcow2Bound(info.virtualSize)} more bytes of scratch space than are free now`,
        { details: { field: 'limits.scratchBytes', rule: 'scratch-quota' } },
      );
    const output = join(scratch, `disk${i}.qcow2`);
    await task.stage('converting', base, `${field}: 0%`);
    const inputHash = disk.sha256 ? Promise.resolve(disk.sha256) : sha256File(disk.file, task.signal);
    inputHash.catch(() => {});
    await options.converter.convert({
      input: disk.file,
      inputFormat: qemuFormat(info.format),
      output,
      outputFormat: 'qcow2',
      signal: task.signal,
      onProgress: (f) => task.progress(base + span * 0.9 * f, `${field}: ${Math.floor(f * 100)}%`),
      onSpawn: (pid) => task.converterStarted(pid),
    });
    r.converterPid = undefined;
    const sha256 = await inputHash;
    if (disk.expectedSha256 && disk.expectedSha256.toLowerCase() !== sha256)
      throw new VmkitError('CORRUPT', `${field}: sha256 is ${sha256}, expected ${disk.expectedSha256}`, {
        details: { rule: 'sha256' },
      });
    const out = await inspectImage(output, { signal: task.signal });
    assertSafeImage(out, { format: 'qcow2', field: `${field} converted` });
    outputs.push(output);
    snapshots.push({
      format: disk.format,
      source: disk.source,
      diskImageSize: disk.size,
      virtualSize: out.virtualSize,
      sha256,
      outputSha256: await sha256File(output, task.signal),
    });
    r.snapshots = snapshots;
  }
  await task.stage('registering', 95);
  return register(task, outputs, snapshots, deps);
}

async function register(
  task: LiveTask,
  outputs: string[],
  snapshots: SnapshotDetail[],
  deps: ImportDeps,
): Promise<ImageRecord | undefined> {
  const { options } = deps;
  const r = task.record;
  const id = r.kind === 'import-volume' ? r.volumeId! : r.imageId!;
  const dir = join(options.imageDir, id);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const paths = outputs.map((_, i) => join(dir, `disk${i}.qcow2`));
  for (const [i, out] of outputs.entries()) await moveFile(out, paths[i]!);
  r.snapshots = snapshots.map((s, i) => ({ ...s, outputPath: paths[i]! }));
  if (r.kind === 'import-volume') return undefined;
  const os = r.os ?? { family: 'linux', version: 'imported', arch: 'x86_64' };
  const firmware = r.bootMode ? BOOT_MODE_FIRMWARE[r.bootMode] : r.hardware?.firmware;
  const hardware = { ...r.hardware, ...(firmware ? { firmware } : {}) };
  if (Object.keys(hardware).length > 0) r.hardware = hardware;
  const image: ImageRecord = {
    imageId: id,
    path: paths[0]!,
    format: 'qcow2',
    virtualSize: snapshots[0]!.virtualSize ?? 0,
    sha256: snapshots[0]!.outputSha256!,
    os,
    ...(Object.keys(hardware).length > 0 ? { hardware } : {}),
    ...(r.login ? { login: r.login } : {}),
    ...(r.description ? { description: r.description } : {}),
    importTaskId: r.id,
    extraDisks: paths.slice(1),
  };
  try {
    if (r.imageStore === 'blob') {
      await task.stage('uploading', 95, `${paths.length} disk(s) to the store`);
      image.blobs = await uploadImageDisks(
        id,
        paths.map((path, i) => ({ path, sha256: snapshots[i]!.outputSha256! })),
        deps,
        task.signal,
      );
    }
    await registerAndCheck(task, image, deps);
  } catch (error) {
    // Nothing of a failed import stays: not its blobs either.
    if (r.imageStore === 'blob')
      await removeDiskBlobs(
        paths.map((_, n) => diskBlobName(id, n)),
        deps,
      ).catch(() => {});
    throw error;
  }
  return image;
}

/** Registers the image with the compute service, runs the boot check asked for, then records it. */
async function registerAndCheck(task: LiveTask, image: ImageRecord, deps: ImportDeps): Promise<void> {
  const { options, repo } = deps;
  const r = task.record;
  const id = image.imageId;
  // Registered first: an image whose master could not be built is not recorded.
  if (options.compute) await options.compute.ensureImage(masterSpecOf(image), { signal: task.signal });
  if (r.validate) {
    // An image that does not boot is not kept: its master goes with the task's failure.
    await bootCheck(task, id, r.validate, options.compute).catch(async (error: unknown) => {
      await options.compute?.deleteImage?.(id, { force: true }).catch(() => {});
      throw error;
    });
  }
  await repo.saveImage(image);
}

/** The `disk` master spec of an imported image. */
export function masterSpecOf(image: ImageRecord): MasterSpec {
  const hw = image.hardware;
  return {
    id: image.imageId,
    ...(image.description ? { name: image.description } : {}),
    os: image.os,
    ...(image.login === 'vagrant' ? { login: vagrantLogin() } : {}),
    source: { type: 'disk', path: image.path, format: 'qcow2', sha256: image.sha256 },
    ...(hw && (hw.cores || hw.ramMiB || hw.firmware)
      ? {
          hardware: {
            ...(hw.cores ? { cores: hw.cores } : {}),
            ...(hw.ramMiB ? { ramMiB: hw.ramMiB } : {}),
            ...(hw.firmware ? { firmware: hw.firmware } : {}),
          },
        }
      : {}),
  } as MasterSpec;
}
