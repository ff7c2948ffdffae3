import type { OperatingSystem, TemplateOptions } from '@vmkit/core';
import type { BoxProvider } from './box/box-metadata.js';

/** AWS's task states. A failed task ends `deleted` with a `statusMessage` saying why. */
export type TaskStatus = 'active' | 'completed' | 'cancelling' | 'cancelled' | 'deleting' | 'deleted';

/**
 * Stage a task is in, named in its `statusMessage`: `pending` (queued for a conversion slot and
 * scratch space), `downloading`, `extracting` (OVA), `validating`, `converting`, `registering`,
 * `booting` (a boot check), `launching`, `exporting`, `uploading`, then `completed`, `cancelled` or `failed`.
 */
export type TaskStage =
  | 'pending'
  | 'downloading'
  | 'extracting'
  | 'validating'
  | 'converting'
  | 'registering'
  | 'booting'
  | 'launching'
  | 'exporting'
  | 'uploading'
  | 'completed'
  | 'cancelled'
  | 'failed';

/** Where a disk comes from: a local path, an http(s) URL (streamed), or a blob in the store. */
export type DiskLocation =
  | { readonly path: string }
  | { readonly url: string }
  | { readonly container: string; readonly name: string };

/** A disk to import: its location and its format (`ova` or `box` for an archive; given, never probed). */
export type DiskContainer = DiskLocation & {
  /** `vmdk`, `vhd` (or `vpc`), `vhdx`, `vdi`, `qcow2`, `raw`, `ova`, or `box` (a Vagrant box). */
  readonly format: string;
  /** For a `box`: the provider its `metadata.json` must name (default: either). */
  readonly provider?: BoxProvider;
  /** Expected SHA-256 of the source bytes (hex); a mismatch fails the task. */
  readonly sha256?: string;
};

/**
 * What a boot check waits for: the guest agent, SSH (the compute service's transport), a TCP
 * port or an HTTP path answering below 400 (forwarded from the host; port 80 by default), or a
 * `login:` prompt on the serial console. A bare port is a weak signal behind a forwarding proxy,
 * which may hold a connection open before the guest is up: prefer `http` where the guest serves it.
 */
export type BootSignal =
  | 'agent'
  | 'ssh'
  | { readonly port: number }
  | { readonly http: string; readonly port?: number }
  | 'console-login';

/**
 * A boot check ("dynamic validation"): once registered, the image boots a throw-away node that
 * must give `until` within `timeoutMs` (default 5 minutes); the task fails otherwise, quoting the
 * console's last lines, and the node is destroyed either way. Needs a compute service.
 */
export interface BootValidation {
  readonly boot: true;
  readonly until: BootSignal;
  readonly timeoutMs?: number;
}

/**
 * Where an imported image's disks are kept: `local` (the service's `imageDir`, the default) or
 * `blob`: also uploaded to the service's store (streamed, checksummed), their permanent home, so
 * that an import service of another host on the same store can `useImage` them; local files are
 * then a cache.
 */
export type ImageStore = 'local' | 'blob';

/** Arguments of `importImage`. */
export interface ImportImageRequest {
  /** The disks; the first is the boot disk. */
  readonly diskContainers: readonly DiskContainer[];
  readonly description?: string;
  /** Idempotency: the same token returns the same task. */
  readonly clientToken?: string;
  /** Id of the image to create (default: the task's id with `import-ami-` → `ami-`). */
  readonly imageId?: string;
  /** The guest's OS (default `{ family: 'linux', version: 'imported', arch: 'x86_64' }`). */
  readonly os?: OperatingSystem;
  /**
   * How the image boots (AWS's `BootMode`): `uefi` or `legacy-bios`. It wins over what an OVA's
   * descriptor declares; without either the image boots with a BIOS.
   */
  readonly bootMode?: ImportBootMode;
  /** Boot the image once before it is kept (see {@link BootValidation}). */
  readonly validate?: BootValidation;
  /** Where the image's disks are kept (default `local`, or `blob` when `compute.sharesMasters`). */
  readonly imageStore?: ImageStore;
}

/** Arguments of `importVolume` (AWS's legacy call): one disk converted to a qcow2 volume. */
export interface ImportVolumeRequest {
  readonly image: DiskContainer;
  readonly description?: string;
  readonly clientToken?: string;
}

/** How `importInstance` launches its instance (AWS's `LaunchSpecification`, vmkit's words). */
export interface LaunchSpecification {
  /** Hardware profile id (default: the smallest profile that fits the image). */
  readonly instanceType?: string;
  /** Group of the node (default `import`). */
  readonly group?: string;
  /** Node options: hardware overrides, user data, inbound ports, names, ... */
  readonly options?: TemplateOptions;
}

/**
 * Arguments of `importInstance` (AWS's legacy call): disks made into an image and, given a
 * compute service, one instance (node) launched from it; without one, a volume import only.
 */
export interface ImportInstanceRequest {
  readonly diskImages: readonly DiskContainer[];
  readonly description?: string;
  readonly clientToken?: string;
  /**
   * The guest's platform, as AWS names it: `Linux` or `Windows`. Without `os`, the image's OS is
   * of that family (`linux` or `windows`, version `imported`, arch `x86_64`); with `os`, its
   * family must agree.
   */
  readonly platform?: 'Linux' | 'Windows';
  /** The guest's OS (default: of the `platform` family, else `{ family: 'linux', version: 'imported', arch: 'x86_64' }`). */
  readonly os?: OperatingSystem;
  /** The instance to launch (with a compute service). */
  readonly launchSpecification?: LaunchSpecification;
  /** Boot the image once before it is kept and the instance launched (see {@link BootValidation}). */
  readonly validate?: BootValidation;
  /** Where the image's disks are kept (default `local`, or `blob` when `compute.sharesMasters`). */
  readonly imageStore?: ImageStore;
}

/** One disk of a task, as AWS's `SnapshotDetail`. */
export interface SnapshotDetail {
  readonly format: string;
  readonly source: string;
  /** Bytes of the source read. */
  readonly diskImageSize?: number;
  /** Virtual size found by the inspector. */
  readonly virtualSize?: number;
  /** SHA-256 of the source bytes. */
  readonly sha256?: string;
  /** SHA-256 of the converted qcow2. */
  readonly outputSha256?: string;
  /** Path of the converted qcow2 once done. */
  readonly outputPath?: string;
}

/** Hardware read from an OVF descriptor or a Vagrant box's `Vagrantfile`. */
export interface ImportedHardware {
  readonly cores?: number;
  readonly ramMiB?: number;
  /**
   * The boot mode the image declares: `importImage`'s `bootMode`, else its OVF descriptor's
   * (VirtualBox's `Firmware` element, VMware's `firmware` setting). The image's master and every
   * node cloned from it boot with it; `undefined`: nothing declared, `bios`.
   */
  readonly firmware?: 'bios' | 'efi';
}

/** The boot modes `importImage` takes, by AWS's names: `legacy-bios` or `uefi`. */
export type ImportBootMode = 'legacy-bios' | 'uefi';

/** Every {@link ImportBootMode} (internal). */
export const IMPORT_BOOT_MODES: readonly ImportBootMode[] = ['legacy-bios', 'uefi'];

/** The firmware of each {@link ImportBootMode} (internal). */
export const BOOT_MODE_FIRMWARE: Readonly<Record<ImportBootMode, 'bios' | 'efi'>> = {
  'legacy-bios': 'bios',
  uefi: 'efi',
};

/** Fields every task view has. */
export interface TaskViewBase {
  readonly status: TaskStatus;
  /** The stage, then detail: `converting: 42%`, `failed: ...`. */
  readonly statusMessage: string;
  /** `'0'` to `'100'`, as AWS gives it. */
  readonly progress: string;
  readonly description?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Why the task failed or was cancelled. */
  readonly failureReason?: string;
}

/** An import task as `describeImportImageTasks` returns it. */
export interface ImportImageTask extends TaskViewBase {
  readonly importTaskId: string;
  /** The image made, once completed. */
  readonly imageId?: string;
  readonly snapshotDetails: readonly SnapshotDetail[];
  readonly hardware?: ImportedHardware;
  /** `vagrant` for a Vagrant box: the image's login is user `vagrant` with Vagrant's insecure key. */
  readonly login?: 'vagrant';
}

/** An `importVolume` / `importInstance` task as `describeConversionTasks` returns it. */
export interface ConversionTask extends TaskViewBase {
  readonly conversionTaskId: string;
  readonly kind: 'import-volume' | 'import-instance';
  /** For `importInstance`: the image made. */
  readonly imageId?: string;
  /** For `importVolume`: the volume's id. */
  readonly volumeId?: string;
  /** For `importInstance` with a compute service: the id of the node launched. */
  readonly instanceId?: string;
  readonly snapshotDetails: readonly SnapshotDetail[];
  readonly hardware?: ImportedHardware;
}

/** Formats an image can be exported to (VMDK exports are streamOptimized; `box` is a Vagrant box). */
export type ExportFormat = 'vmdk' | 'vhd' | 'raw' | 'qcow2' | 'box';

/** Arguments of `exportImage`. */
export interface ExportImageRequest {
  /** An image made by an import of this service. */
  readonly imageId: string;
  readonly diskImageFormat: ExportFormat;
  /** For `box`: the Vagrant provider the box is for (default `libvirt`). */
  readonly boxProvider?: BoxProvider;
  readonly destination: { readonly path: string } | { readonly container: string; readonly name: string };
  readonly description?: string;
  readonly clientToken?: string;
}

/** An export task as `describeExportImageTasks` returns it. */
export interface ExportImageTask extends TaskViewBase {
  readonly exportImageTaskId: string;
  readonly imageId: string;
  readonly diskImageFormat: ExportFormat;
  /** For `box` exports: the Vagrant provider. */
  readonly boxProvider?: BoxProvider;
  readonly destination: string;
  /** SHA-256 of the exported file, once completed. */
  readonly sha256?: string;
  readonly size?: number;
}

/** Any task view. */
export type AnyTask = ImportImageTask | ConversionTask | ExportImageTask;
