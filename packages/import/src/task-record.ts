import type { OperatingSystem } from '@vmkit/core';
import type {
  DiskContainer,
  ExportFormat,
  ImportedHardware,
  SnapshotDetail,
  TaskStage,
  TaskStatus,
} from './task-model.js';

/** Kinds of task the engine runs. */
export type TaskKind = 'import-image' | 'import-volume' | 'import-instance' | 'export-image';

/** The persisted state of one task (JSON in the blob store). */
export interface TaskRecord {
  id: string;
  kind: TaskKind;
  status: TaskStatus;
  stage: TaskStage;
  /** 0-100. */
  progress: number;
  detail?: string;
  description?: string;
  clientToken?: string;
  createdAt: string;
  updatedAt: string;
  failureReason?: string;
  /** Import: the disks asked for and what became of them. */
  disks: DiskContainer[];
  snapshots: SnapshotDetail[];
  os?: OperatingSystem;
  hardware?: ImportedHardware;
  imageId?: string;
  volumeId?: string;
  /** Export. */
  exportFormat?: ExportFormat;
  destination?: { path: string } | { container: string; name: string };
  sha256?: string;
  size?: number;
  /** The running converter's process id, so a restart can end an orphan. */
  converterPid?: number;
}

/** An image this service made (JSON in the blob store). */
export interface ImageRecord {
  imageId: string;
  /** The boot disk, qcow2. */
  path: string;
  format: 'qcow2';
  virtualSize: number;
  sha256: string;
  os: OperatingSystem;
  hardware?: ImportedHardware;
  description?: string;
  importTaskId: string;
  /** Further disks of the import, qcow2. */
  extraDisks: string[];
}

/** True for states a task leaves only by finishing. */
export function isLive(record: TaskRecord): boolean {
  return record.status === 'active' || record.status === 'cancelling' || record.status === 'deleting';
}
