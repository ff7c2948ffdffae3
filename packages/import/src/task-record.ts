import { randomBytes } from 'node:crypto';
import type { OperatingSystem } from '@vmkit/core';
import type { BoxProvider } from './box/box-metadata.js';
import type {
  BootValidation,
  DiskContainer,
  ExportFormat,
  ImageStore,
  ImportBootMode,
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
  /** `importImage`'s `bootMode`: wins over the firmware a descriptor declares. */
  bootMode?: ImportBootMode;
  /** `vagrant`: the disks came from a Vagrant box (login `vagrant`, Vagrant's insecure key). */
  login?: 'vagrant';
  imageId?: string;
  volumeId?: string;
  /** The boot check asked for. */
  validate?: BootValidation;
  /** Where the image's disks are kept: `blob` also uploads them to the store. */
  imageStore?: ImageStore;
  /** Export. */
  exportFormat?: ExportFormat;
  boxProvider?: BoxProvider;
  destination?: { path: string } | { container: string; name: string };
  sha256?: string;
  size?: number;
  /** `importInstance`: the node launched. */
  instanceId?: string;
  /** Said after `completed` in the status message (e.g. that no instance was launched). */
  note?: string;
  /** The running converter's process id, so a restart of the same host in the same boot can end an orphan. */
  converterPid?: number;
  /** The host that runs the task (see {@link HostIdentity}): only its own recovery acts on the task. */
  hostId?: string;
  /** The boot of that host in which the task ran: a pid means nothing after a reboot. */
  bootId?: string;
  /** The process id of the import service that runs the task. */
  servicePid?: number;
}

/** A disk of an image kept in the blob store (`imageStore: 'blob'`). */
export interface DiskBlob {
  /** Blob name in the service's records container: `disks/<imageId>/disk<n>.qcow2`. */
  name: string;
  /** SHA-256 of the qcow2. */
  sha256: string;
  size: number;
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
  /** `vagrant`: a Vagrant box's image, whose login is user `vagrant` with Vagrant's insecure key. */
  login?: 'vagrant';
  description?: string;
  importTaskId: string;
  /** Further disks of the import, qcow2. */
  extraDisks: string[];
  /**
   * With `imageStore: 'blob'`: the disks in the store, their permanent home (boot disk first);
   * `path` and `extraDisks` are then a host's cache of them.
   */
  blobs?: DiskBlob[];
}

/** True for states a task leaves only by finishing. */
export function isLive(record: TaskRecord): boolean {
  return record.status === 'active' || record.status === 'cancelling' || record.status === 'deleting';
}

/** Prefix of each kind's task ids, as AWS's. */
export const ID_PREFIX: Readonly<Record<TaskKind, string>> = {
  'import-image': 'import-ami-',
  'import-volume': 'import-vol-',
  'import-instance': 'import-i-',
  'export-image': 'export-ami-',
};

/** Digits after the prefix of a task id: hex, as {@link newTaskRecord} makes them. */
const ID_DIGITS = 17;

/** Every task id vmkit issues: a kind's prefix and 17 lower-case hex digits. */
export const TASK_ID_PATTERN = new RegExp(
  `^(?:${Object.values(ID_PREFIX).join('|')})[0-9a-f]{${ID_DIGITS}}$`,
);

/** Whether `id` is an id vmkit would issue for a task of `kind` (any kind when omitted). */
export function isTaskId(id: unknown, kind?: TaskKind): id is string {
  return typeof id === 'string' && TASK_ID_PATTERN.test(id) && (!kind || id.startsWith(ID_PREFIX[kind]));
}

/** A new task record, `active` and `pending`, with a fresh id of its kind. */
export function newTaskRecord(
  kind: TaskKind,
  disks: readonly DiskContainer[],
  req: { description?: string; clientToken?: string; os?: OperatingSystem; bootMode?: ImportBootMode },
): TaskRecord {
  const now = new Date().toISOString();
  return {
    id: `${ID_PREFIX[kind]}${randomBytes(9).toString('hex').slice(0, ID_DIGITS)}`,
    kind,
    status: 'active',
    stage: 'pending',
    progress: 0,
    createdAt: now,
    updatedAt: now,
    disks: disks.map((d) => ({ ...d })),
    snapshots: [],
    ...(req.description ? { description: req.description } : {}),
    ...(req.clientToken ? { clientToken: req.clientToken } : {}),
    ...(req.os ? { os: { ...req.os } } : {}),
    ...(req.bootMode ? { bootMode: req.bootMode } : {}),
  };
}
