import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '@vmkit/core/blobstore';
import { VmkitError } from '@vmkit/core/spi';
import { assertSafeImage, inspectImage } from '@vmkit/imaging';
import type { Admission } from './admission-queue.js';
import { packBox } from './box/box-pack.js';
import { type ExportInput, fetchMasterDisk } from './compute-export.js';
import { sha256File } from './hashing.js';
import type { ImportDeps } from './import-runner.js';
import type { LiveTask } from './live-task.js';
import { fileStream, moveFile } from './move-file.js';
import type { ExportFormat } from './task-model.js';
import type { ImageRecord } from './task-record.js';

/** qemu-img output format and options of each disk export format (VMDK: streamOptimized; VHD: sized exactly). */
const OUTPUT: Record<Exclude<ExportFormat, 'box'>, { format: string; options?: string; ext: string }> = {
  vmdk: { format: 'vmdk', options: 'subformat=streamOptimized', ext: 'vmdk' },
  vhd: { format: 'vpc', options: 'subformat=dynamic,force_size=on', ext: 'vhd' },
  raw: { format: 'raw', ext: 'raw' },
  qcow2: { format: 'qcow2', ext: 'qcow2' },
};

/** The disk inside a box of each provider: qcow2 `box.img` (libvirt), a streamOptimized VMDK (virtualbox). */
const BOX_DISK = {
  libvirt: { out: OUTPUT.qcow2, name: 'box.img' },
  virtualbox: { out: OUTPUT.vmdk, name: 'box-disk001.vmdk' },
} as const;

/** Where an export delivers, and whether it has begun to (so a cancel knows what to remove). */
export interface Delivery {
  readonly destination: { readonly path: string } | { readonly container: string; readonly name: string };
  started: boolean;
}

/** Removes what an export delivered, if it began delivering: its file or its blob. */
export async function removeDelivery(delivery: Delivery, store: BlobStore): Promise<void> {
  if (!delivery.started) return;
  const d = delivery.destination;
  if ('path' in d) await rm(d.path, { force: true });
  else await store.removeBlob(d.container, d.name);
}

/**
 * Runs an export task once admitted: an imported image's qcow2 (checked again: it could have been
 * replaced since the import) or, given `fromCompute`, the compute master's disk copied to scratch,
 * converted into scratch, hashed and delivered.
 */
export async function runExport(
  task: LiveTask,
  image: ImageRecord | { readonly imageId: string; readonly path?: undefined },
  scratch: string,
  admission: Admission,
  deps: ImportDeps,
  delivery: Delivery,
): Promise<void> {
  const r = task.record;
  const box = r.exportFormat === 'box' ? BOX_DISK[r.boxProvider ?? 'libvirt'] : undefined;
  const out = box ? box.out : OUTPUT[r.exportFormat as Exclude<ExportFormat, 'box'>];
  let input: ExportInput;
  if (image.path) {
    await task.stage('validating', 1, image.imageId);
    const info = await inspectImage(image.path, { signal: task.signal });
    assertSafeImage(info, { format: 'qcow2', field: `image ${image.imageId}` });
    input = { path: image.path, format: 'qcow2' };
  } else input = await fetchMasterDisk(task, image.imageId, scratch, admission, deps);
  let file = join(scratch, box ? box.name : `export.${out.ext}`);
  await task.stage('exporting', 5, `${r.exportFormat}: 0%`);
  await deps.options.converter.convert({
    input: input.path,
    inputFormat: input.format,
    output: file,
    outputFormat: out.format,
    ...(out.options ? { outputOptions: out.options } : {}),
    signal: task.signal,
    onProgress: (f) => task.progress(5 + 80 * f, `${r.exportFormat}: ${Math.floor(f * 100)}%`),
    onSpawn: (pid) => task.converterStarted(pid),
  });
  r.converterPid = undefined;
  if (box) {
    const disk = file;
    file = join(scratch, 'export.box');
    const info = await inspectImage(disk, { signal: task.signal });
    await packBox({
      provider: r.boxProvider ?? 'libvirt',
      disk,
      virtualSize: info.virtualSize,
      name: image.imageId,
      ...('hardware' in image && image.hardware ? { hardware: image.hardware } : {}),
      output: file,
      signal: task.signal,
    });
  }
  r.sha256 = await sha256File(file, task.signal);
  r.size = (await stat(file)).size;
  const dest = r.destination!;
  await task.stage('uploading', 90, 'path' in dest ? dest.path : `${dest.container}/${dest.name}`);
  if ('path' in dest) {
    try {
      await moveFile(file, dest.path, true);
      delivery.started = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new VmkitError('CONFLICT', `destination.path: ${dest.path} already exists`, {
          details: { field: 'destination.path' },
        });
      throw error;
    }
  } else {
    await deps.options.store.createContainer(dest.container);
    delivery.started = true;
    await deps.options.store.putBlob(dest.container, dest.name, fileStream(file), {
      signal: task.signal,
      metadata: { sha256: r.sha256, format: r.exportFormat! },
    });
  }
}
