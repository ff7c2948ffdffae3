import { join } from 'node:path';
import { VmkitError } from '@vmkit/core/spi';
import { assertSafeImage, inspectImage } from '@vmkit/imaging';
import type { Admission } from './admission-queue.js';
import type { ImportDeps } from './import-runner.js';
import { qcow2Bound, qemuFormat } from './import-runner.js';
import type { ImageRegistry } from './import-service-options.js';
import type { LiveTask } from './live-task.js';

/** A disk an export converts: an imported image's qcow2, or a compute master's disk copied to scratch. */
export interface ExportInput {
  readonly path: string;
  /** qemu-img's name of its format. */
  readonly format: string;
}

/** The compute service, if it can export its images' masters; `undefined` otherwise. */
export function masterExporter(
  compute: ImageRegistry | undefined,
): (Required<Pick<ImageRegistry, 'getImage' | 'exportImageDisk'>> & ImageRegistry) | undefined {
  return compute?.getImage && compute.exportImageDisk
    ? (compute as Required<Pick<ImageRegistry, 'getImage' | 'exportImageDisk'>> & ImageRegistry)
    : undefined;
}

/**
 * Copies a compute image's master disk into scratch (`downloading`), then checks it with the
 * inspector as any import is checked, and grows the task's scratch reservation to what the copy
 * and the conversion take (failing with the scratch quota's rule when that does not fit).
 */
export async function fetchMasterDisk(
  task: LiveTask,
  imageId: string,
  scratch: string,
  admission: Admission,
  deps: ImportDeps,
): Promise<ExportInput> {
  const compute = masterExporter(deps.options.compute)!;
  const file = join(scratch, 'master.disk');
  await task.stage('downloading', 1, `master of ${imageId}`);
  const got = await compute.exportImageDisk(imageId, file, {
    signal: task.signal,
    onProgress: (e) => {
      if (e.phase === 'transfer' && e.fraction !== undefined)
        task.progress(1 + 9 * e.fraction, `master of ${imageId}: ${Math.floor(e.fraction * 100)}%`);
    },
  });
  await task.stage('validating', 10, `master of ${imageId} (${got.format})`);
  const info = await inspectImage(file, { signal: task.signal });
  const field = `master of ${imageId}`;
  assertSafeImage(info, {
    format: got.format,
    maxVirtualSize: deps.options.limits.maxImageBytes,
    field,
  });
  // A box holds the converted disk and the box made of it: twice the output's bound.
  const outputs = task.record.exportFormat === 'box' ? 2 : 1;
  const need = got.bytes + outputs * qcow2Bound(info.virtualSize) - admission.bytes;
  if (need > 0 && !admission.grow(need))
    throw new VmkitError(
      'INVALID_ARGUMENT',
      `limits.scratchBytes: ${field} needs ${need} more bytes of scratch space than are free now`,
      { details: { field: 'limits.scratchBytes', rule: 'scratch-quota' } },
    );
  return { path: file, format: qemuFormat(info.format) };
}
