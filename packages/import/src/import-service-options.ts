import { dirname, join, resolve } from 'node:path';
import { type ComputeService, type Logger, type MasterSpec, silentLogger } from '@vmkit/core';
import { type BlobStore, fileSystemBlobStore } from '@vmkit/core/blobstore';
import { invalidArgument } from '@vmkit/core/spi';
import { type DiskConverter, qemuImgConverter } from '@vmkit/imaging';
import { defaultImportRoot } from './working-folders.js';

/**
 * The part of a compute service the import service uses (a `ComputeService` fits): registering
 * imports as masters; with the optional methods also exporting the compute service's own images
 * (`getImage`, `exportImageDisk`), launching `importInstance`'s node (`createNodesInGroup`) and
 * booting throw-away nodes for boot checks (`waitForNode`, `destroyNode`, `readNodeConsole`).
 */
export interface ImageRegistry {
  /**
   * Whether the compute service shares its masters with other hosts (`ComputeService.sharesMasters`):
   * imports are then kept in the blob store unless the request says `imageStore: 'local'`.
   */
  readonly sharesMasters?: boolean;
  /** Registers (and builds) a master from a spec; `ComputeService.ensureImage` fits. */
  ensureImage(spec: MasterSpec, options?: { signal?: AbortSignal }): Promise<unknown>;
  /** An image of the compute service, or `undefined`. */
  getImage?(id: string): Promise<unknown>;
  /** Copies an image's master disk to a new file, in its own format. */
  exportImageDisk?: ComputeService['exportImageDisk'];
  /** Launches nodes (`importInstance` launches one). */
  createNodesInGroup?: ComputeService['createNodesInGroup'];
  /** Deletes an image's master; `deleteImportedImage` uses it (`ComputeService.deleteImage` fits). */
  deleteImage?(id: string, options?: { force?: boolean }): Promise<void>;
  /** Picks the image and hardware of `importInstance`'s node. */
  templateBuilder?: ComputeService['templateBuilder'];
  /** Waits for a node to answer (boot checks: `validate.until` agent, ssh or a port). */
  waitForNode?: ComputeService['waitForNode'];
  /** Destroys a node (a boot check's throw-away node). */
  destroyNode?(id: string): Promise<void>;
  /** The end of a node's serial console (boot checks quote it; `console-login` reads it). */
  readNodeConsole?: ComputeService['readNodeConsole'];
}

/** Limits on the work an import service does at once. */
export interface ImportLimits {
  /** Tasks converting at once; others wait as `pending` (default 2). */
  readonly tasks?: number;
  /** Scratch space the tasks admitted at once may use, in bytes (default 64 GiB). */
  readonly scratchBytes?: number;
  /** Largest source file and virtual size accepted, in bytes (default 1 TiB). */
  readonly maxImageBytes?: number;
}

/** Options of {@link createImportService}. */
export interface ImportServiceOptions {
  /**
   * Where task and image records persist (default: a filesystem store under `scratchDir/../records`).
   * Records are untrusted: see `docs/security.md` for what a writer of this store can and cannot do.
   */
  readonly store?: BlobStore;
  /** Container of the records in `store` (default `vmkit-import`). */
  readonly container?: string;
  /**
   * Directory of the tasks' temporary files (default `~/.cache/vmkit/import/scratch`, or under
   * `$XDG_CACHE_HOME`; the default folders are private: made 0700, checked, refused otherwise).
   */
  readonly scratchDir?: string;
  /** Directory where imported images' qcow2 disks are kept (default `scratchDir/../images`). */
  readonly imageDir?: string;
  readonly limits?: ImportLimits;
  /** A compute service: a completed import is registered there as a `disk` master. */
  readonly compute?: ImageRegistry;
  /** The converter (default `qemu-img`); tests pass fakes. */
  readonly converter?: DiskConverter;
  readonly logger?: Logger;
}

/** {@link ImportServiceOptions} with defaults applied, frozen. */
export interface ResolvedImportOptions {
  readonly store: BlobStore;
  /** Whether the caller gave `store` (the default one is this host's own, shared with no one). */
  readonly storeGiven: boolean;
  readonly container: string;
  readonly scratchDir: string;
  readonly imageDir: string;
  readonly limits: Required<ImportLimits>;
  readonly compute: ImageRegistry | undefined;
  readonly converter: DiskConverter;
  readonly logger: Logger;
}

function positive(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw invalidArgument(field, 'must be a positive integer');
  return value;
}

/** Validates the options eagerly, naming the bad one, and applies defaults. */
export function resolveImportOptions(options: ImportServiceOptions = {}): ResolvedImportOptions {
  const scratchDir = resolve(options.scratchDir ?? join(defaultImportRoot(), 'scratch'));
  if (options.scratchDir !== undefined && (typeof options.scratchDir !== 'string' || !options.scratchDir))
    throw invalidArgument('scratchDir', 'must be a directory path');
  const imageDir = resolve(options.imageDir ?? join(dirname(scratchDir), 'images'));
  if (imageDir === scratchDir || imageDir.startsWith(`${scratchDir}/`))
    throw invalidArgument('imageDir', 'must not lie inside scratchDir (scratch is emptied on restart)');
  const limits = options.limits ?? {};
  return Object.freeze({
    store: options.store ?? fileSystemBlobStore({ root: join(dirname(scratchDir), 'records') }),
    storeGiven: options.store !== undefined,
    container: options.container ?? 'vmkit-import',
    scratchDir,
    imageDir,
    limits: Object.freeze({
      tasks: positive(limits.tasks, 'limits.tasks', 2),
      scratchBytes: positive(limits.scratchBytes, 'limits.scratchBytes', 64 * 1024 ** 3),
      maxImageBytes: positive(limits.maxImageBytes, 'limits.maxImageBytes', 1024 ** 4),
    }),
    compute: options.compute,
    converter: options.converter ?? qemuImgConverter(),
    logger: options.logger ?? silentLogger,
  });
}
