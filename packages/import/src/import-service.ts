import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument, Lifecycle, VmkitError } from '@vmkit/core/spi';
import { normalizeFormat } from '@vmkit/imaging';
import { blobImageHere, fetchImageDisks, removeDiskBlobs } from './blob-images.js';
import { checkBootValidation } from './boot-check.js';
import { masterExporter } from './compute-export.js';
import { type Delivery, removeDelivery, runExport } from './export-runner.js';
import { hostIdentity } from './host-identity.js';
import { foreignImage, IMAGE_ID } from './image-record-check.js';
import { estimateImport, type ImportDeps, masterSpecOf, qcow2Bound, runImport } from './import-runner.js';
import { type ImportServiceOptions, resolveImportOptions } from './import-service-options.js';
import { checkLaunchSpecification, instanceOs, launchInstance } from './instance-launch.js';
import { validateLocation } from './source-fetch.js';
import { TaskEngine } from './task-engine.js';
import type {
  AnyTask,
  ConversionTask,
  DiskContainer,
  ExportImageRequest,
  ExportImageTask,
  ImportImageRequest,
  ImportImageTask,
  ImportInstanceRequest,
  ImportVolumeRequest,
  TaskStatus,
} from './task-model.js';
import { IMPORT_BOOT_MODES } from './task-model.js';
import {
  ID_PREFIX,
  type ImageRecord,
  isLive,
  newTaskRecord,
  type TaskKind,
  type TaskRecord,
} from './task-record.js';
import { TaskRepository } from './task-repository.js';
import { conversionView, exportView, importImageView, viewOf } from './task-views.js';
import { prepareWorkingFolders } from './working-folders.js';

const IMPORT_FORMATS = ['vmdk', 'vhd', 'vhdx', 'vdi', 'qcow2', 'raw', 'ova', 'box'];
const EXPORT_FORMATS = ['vmdk', 'vhd', 'raw', 'qcow2', 'box'];
const BOX_PROVIDERS = ['libvirt', 'virtualbox'];

/** AWS-style import and export of disk images (see {@link createImportService}). */
export interface ImportService {
  /** Starts an ImportImage task; the same `clientToken` returns the same task. */
  importImage(request: ImportImageRequest): Promise<{ importTaskId: string }>;
  /** Starts an ImportVolume task (one disk to a qcow2 volume). */
  importVolume(request: ImportVolumeRequest): Promise<{ conversionTaskId: string }>;
  /** Starts an ImportInstance task: disks to an image and, given a compute service, one node launched from it. */
  importInstance(request: ImportInstanceRequest): Promise<{ conversionTaskId: string }>;
  /** ImportImage tasks, all or those named, optionally filtered by state. */
  describeImportImageTasks(request?: {
    importTaskIds?: readonly string[];
    filters?: { 'task-state'?: readonly TaskStatus[] };
  }): Promise<ImportImageTask[]>;
  /** ImportVolume and ImportInstance tasks. */
  describeConversionTasks(request?: { conversionTaskIds?: readonly string[] }): Promise<ConversionTask[]>;
  /** Export tasks. */
  describeExportImageTasks(request?: { exportImageTaskIds?: readonly string[] }): Promise<ExportImageTask[]>;
  /** Resolves with the task once it is completed, cancelled or failed. */
  waitForTask(id: string, options?: { signal?: AbortSignal }): Promise<AnyTask>;
  /** Cancels an import: its converter ends, scratch is removed, state `cancelled`; completed tasks refuse. */
  cancelImportTask(importTaskId: string, reason?: string): Promise<ImportImageTask>;
  /** Cancels an ImportVolume / ImportInstance task. */
  cancelConversionTask(conversionTaskId: string, reason?: string): Promise<ConversionTask>;
  /** Cancels an export: its converter ends, its scratch and any output it delivered are removed; completed tasks refuse. */
  cancelExportTask(exportImageTaskId: string, reason?: string): Promise<ExportImageTask>;
  /**
   * Deletes an image imported here: given a compute service that knows it, its master first
   * (`deleteImage`, which refuses with `CONFLICT` while nodes use it unless `force`, which destroys
   * them), then its record and its qcow2 disks. Refused (`CONFLICT`) while an export reads it.
   */
  deleteImportedImage(imageId: string, options?: { force?: boolean }): Promise<void>;
  /**
   * Starts an export to vmdk (streamOptimized), vhd, raw or qcow2 of an image imported here or,
   * given a compute service with `exportImageDisk`, of one of its images (its master's disk).
   */
  exportImage(request: ExportImageRequest): Promise<{ exportImageTaskId: string }>;
  /**
   * Makes an image usable on this host: one kept in the blob store (`imageStore: 'blob'`, imported
   * here or by another host's service on the same store) has its disks downloaded into this
   * service's `imageDir` (a cache: streamed, sha256 and size verified against the record,
   * inspected as any import; a cached copy that still matches is kept), and is registered with the
   * compute service as a `disk` master. Returns the image with this host's paths. `NOT_FOUND` for
   * an image neither imported here nor kept in the store.
   */
  useImage(imageId: string, options?: { signal?: AbortSignal }): Promise<Readonly<ImageRecord>>;
  /** Images made by completed imports. */
  listImages(): Promise<Array<Readonly<ImageRecord>>>;
  /** Stops live tasks (they fail: the service closed) and waits for them. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

class VmkitImportService implements ImportService {
  readonly #deps: ImportDeps;
  readonly #engine: TaskEngine;
  readonly #tokens = new Map<string, string>();
  readonly #images = new Map<string, ImageRecord>();
  readonly #life: Lifecycle;

  constructor(deps: ImportDeps, engine: TaskEngine, images: ImageRecord[]) {
    this.#deps = deps;
    this.#engine = engine;
    this.#life = new Lifecycle('the import service', { close: () => engine.close() });
    for (const r of engine.records.values())
      if (r.clientToken) this.#tokens.set(`${r.kind}:${r.clientToken}`, r.id);
    for (const i of images) this.#images.set(i.imageId, i);
  }

  async importImage(req: ImportImageRequest) {
    if (req?.bootMode !== undefined && !IMPORT_BOOT_MODES.includes(req.bootMode))
      throw invalidArgument('bootMode', `must be one of ${IMPORT_BOOT_MODES.join(', ')}`, {
        bootMode: String(req.bootMode),
      });
    const id = await this.#startImport('import-image', req.diskContainers, req, 'diskContainers');
    return { importTaskId: id };
  }

  async importVolume(req: ImportVolumeRequest) {
    return { conversionTaskId: await this.#startImport('import-volume', [req?.image], req, 'image') };
  }

  async importInstance(req: ImportInstanceRequest) {
    checkLaunchSpecification(req?.launchSpecification);
    const os = instanceOs(req ?? {});
    const id = await this.#startImport(
      'import-instance',
      req?.diskImages,
      { ...req, ...(os ? { os } : {}) },
      'diskImages',
    );
    return { conversionTaskId: id };
  }

  async describeImportImageTasks(req: Parameters<ImportService['describeImportImageTasks']>[0] = {}) {
    const states = req.filters?.['task-state'];
    return this.#select('import-image', req.importTaskIds)
      .filter((r) => !states || states.includes(r.status))
      .map(importImageView);
  }

  async describeConversionTasks(req: { conversionTaskIds?: readonly string[] } = {}) {
    return this.#select(['import-volume', 'import-instance'], req.conversionTaskIds).map(conversionView);
  }

  async describeExportImageTasks(req: { exportImageTaskIds?: readonly string[] } = {}) {
    return this.#select('export-image', req.exportImageTaskIds).map(exportView);
  }

  async waitForTask(id: string, options: { signal?: AbortSignal } = {}) {
    return viewOf(await this.#engine.wait(id, options.signal));
  }

  async cancelImportTask(id: string, reason?: string) {
    this.#kindOf(id, ['import-image']);
    return importImageView(await this.#engine.cancel(id, reason));
  }

  async cancelConversionTask(id: string, reason?: string) {
    this.#kindOf(id, ['import-volume', 'import-instance']);
    return conversionView(await this.#engine.cancel(id, reason));
  }

  async cancelExportTask(id: string, reason?: string) {
    this.#kindOf(id, ['export-image']);
    return exportView(await this.#engine.cancel(id, reason));
  }

  async deleteImportedImage(imageId: string, options: { force?: boolean } = {}) {
    this.#open();
    const image = typeof imageId === 'string' ? this.#images.get(imageId) : undefined;
    if (!image)
      throw new VmkitError('NOT_FOUND', `imageId: no image ${imageId} was imported here`, {
        details: { field: 'imageId' },
      });
    const reading = [...this.#engine.records.values()].find(
      (t) => t.kind === 'export-image' && t.imageId === imageId && isLive(t),
    );
    if (reading)
      throw new VmkitError('CONFLICT', `imageId: export task ${reading.id} is reading image ${imageId}`, {
        details: { field: 'imageId', taskId: reading.id },
      });
    const compute = this.#deps.options.compute;
    if (compute?.deleteImage && (!compute.getImage || (await compute.getImage(imageId))))
      await compute.deleteImage(imageId, { force: options.force === true }).catch((error: unknown) => {
        if (!(error instanceof VmkitError && error.code === 'NOT_FOUND')) throw error;
      });
    this.#images.delete(imageId);
    await this.#deps.repo.removeImage(imageId);
    await removeDiskBlobs(image.blobs?.map((b) => b.name) ?? [], this.#deps);
    await rm(join(this.#deps.options.imageDir, imageId), { recursive: true, force: true });
  }

  async exportImage(req: ExportImageRequest) {
    this.#open();
    const image = await this.#exportable(req?.imageId);
    if (!EXPORT_FORMATS.includes(req.diskImageFormat))
      throw invalidArgument('diskImageFormat', `must be one of ${EXPORT_FORMATS.join(', ')}`);
    const boxProvider = req.boxProvider ?? (req.diskImageFormat === 'box' ? 'libvirt' : undefined);
    if (boxProvider !== undefined && (req.diskImageFormat !== 'box' || !BOX_PROVIDERS.includes(boxProvider)))
      throw invalidArgument('boxProvider', "is for diskImageFormat 'box' only: libvirt or virtualbox");
    const dest = req.destination;
    if (!dest || ('path' in dest ? !dest.path : !dest.container || !dest.name))
      throw invalidArgument('destination', 'needs a path or { container, name }');
    const existing = this.#byToken('export-image', req.clientToken);
    if (existing) return { exportImageTaskId: existing };
    const record = newTaskRecord('export-image', [], req);
    const delivery: Delivery = { destination: { ...dest }, started: false };
    Object.assign(record, {
      imageId: image.imageId,
      exportFormat: req.diskImageFormat,
      ...(boxProvider ? { boxProvider } : {}),
      destination: { ...dest },
    });
    await this.#engine.submit(record, {
      // A compute master's size is known once copied: its reservation grows then.
      // A box holds its converted disk and the box made of it: twice the bound.
      estimate: async () =>
        'virtualSize' in image ? qcow2Bound(image.virtualSize) * (req.diskImageFormat === 'box' ? 2 : 1) : 0,
      run: async (task, scratch, admission) => {
        // A blob-kept image another host imported is read from this host's cache, made whole first.
        if ('blobs' in image && image.blobs) await fetchImageDisks(image, this.#deps, task.signal);
        await runExport(task, image, scratch, admission, this.#deps, delivery);
      },
      // A cancel or failure once delivery began removes what was delivered (never a file it did not make).
      rollback: () => removeDelivery(delivery, this.#deps.options.store),
    });
    return { exportImageTaskId: record.id };
  }

  /** An image imported here or, failing that, one the compute service can export. */
  async #exportable(imageId: string | undefined): Promise<ImageRecord | { imageId: string }> {
    const image = imageId === undefined ? undefined : this.#images.get(imageId);
    if (image) return image;
    const compute = masterExporter(this.#deps.options.compute);
    if (typeof imageId === 'string' && compute && (await compute.getImage(imageId))) return { imageId };
    throw new VmkitError(
      'NOT_FOUND',
      `imageId: no image ${imageId} was imported here${compute ? ' or is known to the compute service' : ''}`,
      { details: { field: 'imageId' } },
    );
  }

  async useImage(imageId: string, options: { signal?: AbortSignal } = {}) {
    this.#open();
    let image = typeof imageId === 'string' ? this.#images.get(imageId) : undefined;
    if (!image && typeof imageId === 'string' && IMAGE_ID.test(imageId)) {
      const stored = await this.#deps.repo.loadImage(imageId);
      image =
        stored && stored.imageId === imageId ? blobImageHere(stored, this.#deps.options.imageDir) : undefined;
      if (image) this.#images.set(imageId, image);
    }
    if (!image)
      throw new VmkitError(
        'NOT_FOUND',
        `imageId: no image ${imageId} was imported here or is kept in the store`,
        {
          details: { field: 'imageId' },
        },
      );
    const signal = options.signal ?? new AbortController().signal;
    if (image.blobs) await fetchImageDisks(image, this.#deps, signal);
    await this.#deps.options.compute?.ensureImage(masterSpecOf(image), { signal });
    return { ...image };
  }

  async listImages() {
    return [...this.#images.values()].map((i) => ({ ...i }));
  }

  close(): Promise<void> {
    return this.#life.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #startImport(
    kind: TaskKind,
    disks: readonly DiskContainer[] | undefined,
    req: ImportImageRequest | ImportVolumeRequest | ImportInstanceRequest,
    field: string,
  ): Promise<string> {
    this.#open();
    if (!Array.isArray(disks) || disks.length === 0 || disks.some((d) => !d))
      throw invalidArgument(field, 'must name at least one disk');
    disks.forEach((d, i) => {
      const at = kind === 'import-volume' ? field : `${field}[${i}]`;
      if (typeof d.format !== 'string' || !IMPORT_FORMATS.includes(normalizeFormat(d.format)))
        throw invalidArgument(
          `${at}.format`,
          `must be one of ${IMPORT_FORMATS.join(', ')} (the format is never guessed)`,
        );
      validateLocation(d, at);
      if (
        d.provider !== undefined &&
        (normalizeFormat(d.format) !== 'box' || !BOX_PROVIDERS.includes(d.provider))
      )
        throw invalidArgument(`${at}.provider`, 'is for box disks only: libvirt or virtualbox');
    });
    const validate = 'validate' in req ? req.validate : undefined;
    checkBootValidation(validate, this.#deps.options.compute);
    const asked = 'imageStore' in req ? req.imageStore : undefined;
    if (asked !== undefined && asked !== 'local' && asked !== 'blob')
      throw invalidArgument('imageStore', "must be 'local' or 'blob'");
    // A compute service sharing its masters with other hosts, and a store given for the records
    // (the default one is this host's own): imports live in that store too.
    const { compute, storeGiven } = this.#deps.options;
    const imageStore = asked ?? (compute?.sharesMasters === true && storeGiven ? 'blob' : 'local');
    const existing = this.#byToken(kind, req.clientToken);
    if (existing) return existing;
    const record = newTaskRecord(kind, disks, req);
    if (validate) record.validate = { ...validate };
    if (imageStore === 'blob') record.imageStore = imageStore;
    const hex = record.id.slice(ID_PREFIX[kind].length);
    if (kind === 'import-volume') record.volumeId = `vol-${hex}`;
    else record.imageId = ('imageId' in req ? req.imageId : undefined) ?? `ami-${hex}`;
    if (
      record.imageId &&
      (this.#images.has(record.imageId) ||
        [...this.#engine.records.values()].some(
          (t) => t.imageId === record.imageId && t.status === 'active',
        ) ||
        !IMAGE_ID.test(record.imageId))
    )
      throw invalidArgument('imageId', `${record.imageId} is taken (or being imported) or not a plain name`);
    this.#remember(record);
    let registered = false;
    let plan = { preReserved: new Set<number>(), sourceBytes: new Map<number, number>() };
    const imageDir = join(this.#deps.options.imageDir, record.volumeId ?? record.imageId!);
    await this.#engine.submit(record, {
      estimate: async (signal) => {
        const e = await estimateImport(disks, this.#deps, signal);
        plan = e;
        return e.bytes;
      },
      run: async (task, scratch, admission) => {
        const image = await runImport(task, scratch, admission, plan, this.#deps);
        if (image) this.#images.set(image.imageId, image);
        // A registered image stays when its instance cannot be launched (the failure says so).
        registered = image !== undefined;
        if (image && 'diskImages' in req) await launchInstance(task, req.launchSpecification, this.#deps);
      },
      rollback: async () => {
        if (!registered) await rm(imageDir, { recursive: true, force: true });
      },
    });
    return record.id;
  }

  #remember(record: TaskRecord): void {
    if (record.clientToken) this.#tokens.set(`${record.kind}:${record.clientToken}`, record.id);
  }

  #byToken(kind: TaskKind, token: string | undefined): string | undefined {
    return token ? this.#tokens.get(`${kind}:${token}`) : undefined;
  }

  #select(kinds: TaskKind | TaskKind[], ids: readonly string[] | undefined): TaskRecord[] {
    const wanted = Array.isArray(kinds) ? kinds : [kinds];
    const all = [...this.#engine.records.values()].filter((r) => wanted.includes(r.kind));
    if (!ids) return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return ids.map((id) => {
      const r = all.find((x) => x.id === id);
      if (!r) throw new VmkitError('NOT_FOUND', `no task ${id}`, { details: { taskId: id } });
      return r;
    });
  }

  #kindOf(id: string, kinds: TaskKind[]): void {
    const r = this.#engine.records.get(id);
    if (!r || !kinds.includes(r.kind))
      throw new VmkitError('NOT_FOUND', `no ${kinds.join(' or ')} task ${id}`, { details: { taskId: id } });
  }

  #open(): void {
    this.#life.assertOpen();
  }
}

/**
 * Creates an import service: task records are loaded from the store and checked (a record failing
 * is quarantined; tasks this host ran whose process died are marked failed, their scratch removed;
 * other hosts' tasks are left alone), then tasks run through a bounded queue. The default working
 * folders are private to the user (see {@link ImportServiceOptions.scratchDir}).
 */
export async function createImportService(options: ImportServiceOptions = {}): Promise<ImportService> {
  const resolved = resolveImportOptions(options);
  await prepareWorkingFolders(options, resolved);
  const repo = new TaskRepository(resolved.store, resolved.container, resolved.logger);
  await repo.init();
  const engine = new TaskEngine(resolved, repo, await hostIdentity());
  await engine.recover(await repo.loadTasks());
  const images = (await repo.loadImages()).flatMap((record) => {
    // A blob-kept image is anyone's on this store: its disks here are this service's cache.
    const kept = blobImageHere(record, resolved.imageDir);
    if (kept) return [kept];
    const image = record;
    const why = foreignImage(image, resolved.imageDir);
    if (why !== undefined)
      resolved.logger.warn('image record ignored: not an image of this service', {
        imageId: String((image as Partial<ImageRecord> | null)?.imageId),
        reason: why,
      });
    return why === undefined ? [image] : [];
  });
  return new VmkitImportService({ options: resolved, repo }, engine, images);
}
