import type { ConversionTask, ExportImageTask, ImportImageTask, TaskViewBase } from './task-model.js';
import type { TaskRecord } from './task-record.js';

function base(r: TaskRecord): TaskViewBase {
  const detail =
    r.stage === 'failed' || r.stage === 'cancelled'
      ? r.failureReason
      : r.stage === 'completed'
        ? r.note
        : r.detail;
  return {
    status: r.status,
    statusMessage: detail ? `${r.stage}: ${detail}` : r.stage,
    progress: String(r.status === 'completed' ? 100 : r.progress),
    ...(r.description ? { description: r.description } : {}),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    ...(r.failureReason ? { failureReason: r.failureReason } : {}),
  };
}

/** The AWS-shaped view of an `importImage` task. */
export function importImageView(r: TaskRecord): ImportImageTask {
  return {
    ...base(r),
    importTaskId: r.id,
    ...(r.status === 'completed' && r.imageId ? { imageId: r.imageId } : {}),
    snapshotDetails: r.snapshots.map((s) => ({ ...s })),
    ...(r.hardware ? { hardware: { ...r.hardware } } : {}),
    ...(r.login === 'vagrant' ? { login: r.login } : {}),
  };
}

/** The AWS-shaped view of an `importVolume` / `importInstance` task. */
export function conversionView(r: TaskRecord): ConversionTask {
  return {
    ...base(r),
    conversionTaskId: r.id,
    kind: r.kind as ConversionTask['kind'],
    ...(r.status === 'completed' && r.imageId ? { imageId: r.imageId } : {}),
    ...(r.status === 'completed' && r.volumeId ? { volumeId: r.volumeId } : {}),
    ...(r.instanceId ? { instanceId: r.instanceId } : {}),
    snapshotDetails: r.snapshots.map((s) => ({ ...s })),
    ...(r.hardware ? { hardware: { ...r.hardware } } : {}),
  };
}

/** The AWS-shaped view of an `exportImage` task. */
export function exportView(r: TaskRecord): ExportImageTask {
  const d = r.destination!;
  return {
    ...base(r),
    exportImageTaskId: r.id,
    imageId: r.imageId!,
    diskImageFormat: r.exportFormat!,
    ...(r.boxProvider ? { boxProvider: r.boxProvider } : {}),
    destination: 'path' in d ? d.path : `blob:${d.container}/${d.name}`,
    ...(r.sha256 ? { sha256: r.sha256 } : {}),
    ...(r.size !== undefined ? { size: r.size } : {}),
  };
}

/** The view of any task record. */
export function viewOf(r: TaskRecord): ImportImageTask | ConversionTask | ExportImageTask {
  if (r.kind === 'import-image') return importImageView(r);
  if (r.kind === 'export-image') return exportView(r);
  return conversionView(r);
}
