import { mkdtemp, rm, rmdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobStore } from '../blobstore/blob-store.js';
import { retryingBlobStore } from '../blobstore/retrying-blob-store.js';
import { isAbortError, VmkitError } from '../errors/vmkit-error.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { MasterRef } from '../spi/master-build.js';
import { throwIfAborted } from '../util/abort.js';
import type { Logger } from '../util/logger.js';
import { emitProgress, type ProgressListener } from '../util/progress.js';
import type { RecordSigner } from './record-signing.js';
import { digestFile, downloadVerified, uploadFile } from './shared-disk-transfer.js';
import {
  MAX_SHARED_RECORD_BYTES,
  parseSharedRecord,
  SHARED_DISK_FORMATS,
  SHARED_MASTER_SCHEMA_VERSION,
  type SharedMasterRecord,
  sharedDiskName,
  sharedRecordName,
} from './shared-master-record.js';

/** Options of {@link SharedMasters}. */
export interface SharedMastersOptions {
  /** The fleet-wide container (`<metadata container>-shared`), the same for every host. */
  readonly container: string;
  /** Where warnings go. */
  readonly logger: Logger;
  /** Largest disk accepted from the store (default 256 GiB). */
  readonly maxDiskBytes?: number;
  /** Where disks are staged (default the system's temporary directory). */
  readonly tmpDir?: string;
  /** With `recordSigning`: records are published signed, and only signed ones are adopted. */
  readonly signer?: RecordSigner | undefined;
}

/** What {@link SharedMasters} did since it was made. */
export interface SharedMastersStats {
  /** Disks published. */
  published: number;
  /** Masters adopted from the store instead of built. */
  adopted: number;
  /** Shared disks found but unusable (bad record, digest mismatch, unsafe disk): built instead. */
  fallbacks: number;
  /** Publications that failed (the build itself still succeeded). */
  publishFailures: number;
}

/** What a step of the work is given. */
interface Work {
  readonly signal: AbortSignal;
  readonly onProgress: ProgressListener;
}

/**
 * Masters built once per fleet (`shareMasters: true`): a host that builds a master publishes its
 * disk (compressed where the provider can) with a record of its SHA-256 and size under the spec
 * hash; a host whose provider lacks the master downloads it, verifies it while streaming, and has
 * its provider adopt it (the provider runs its image rules on the untrusted file) instead of
 * building. Anything wrong with a shared disk is logged and answered by a normal build; a failed
 * publication never fails the build. Staging files are removed on every path.
 */
export class SharedMasters {
  readonly #provider: HypervisorProvider;
  readonly #store: BlobStore;
  /** Set once the container is made (see `#init`). */
  #initialized = false;
  readonly #container: string;
  readonly #logger: Logger;
  readonly #maxDiskBytes: number;
  readonly #tmpDir: string;
  readonly #signer: RecordSigner | undefined;
  #ready: Promise<void> | undefined;
  /**
   * Record texts that {@link published} read, by spec hash, kept for the {@link adopt} that
   * follows (taken once): a record is written create-only and never changes, so reading it when
   * it is first seen saves a round trip between noticing a publication and downloading its disk.
   */
  readonly #seen = new Map<string, string>();
  /** Counters, for logs and tests. */
  readonly stats: SharedMastersStats = { published: 0, adopted: 0, fallbacks: 0, publishFailures: 0 };

  constructor(provider: HypervisorProvider, store: BlobStore, options: SharedMastersOptions) {
    this.#provider = provider;
    // Record reads and writes retry what is retryable; streamed disks are sent once (see retryingBlobStore).
    this.#store = retryingBlobStore(store);
    this.#container = options.container;
    this.#logger = options.logger;
    this.#maxDiskBytes = options.maxDiskBytes ?? 256 * 1024 ** 3;
    this.#tmpDir = options.tmpDir ?? tmpdir();
    this.#signer = options.signer;
  }

  /** The shared container. */
  get container(): string {
    return this.#container;
  }

  /**
   * The master for `spec` adopted from the store under the name `masterName`, or `undefined` when
   * none is shared, the provider cannot import, or the shared disk is unusable (logged, counted).
   * Throws only when aborted (the provider then leaves nothing behind).
   */
  async adopt(
    spec: MasterSpec,
    hash: string,
    masterName: string,
    work: Work,
  ): Promise<MasterRef | undefined> {
    const importDisk = this.#provider.importMasterDisk?.bind(this.#provider);
    if (!importDisk) return undefined;
    const record = await this.#findRecord(hash, spec.id, work.signal);
    if (!record) return undefined;
    const dir = await mkdtemp(join(this.#tmpDir, 'vmkit-shared-'));
    const file = join(dir, `disk.${record.format}`);
    try {
      const report = this.#reporter(work.onProgress, spec.id, 'download', record.size);
      report(0);
      await downloadVerified(this.#store, this.#container, record.blob, file, record, {
        signal: work.signal,
        onBytes: report,
      });
      const ref = await importDisk(masterName, file, { format: record.format, spec }, work);
      this.stats.adopted++;
      this.#logger.info('master adopted from the shared store', {
        imageId: spec.id,
        masterName,
        publishedBy: record.publishedBy,
        bytes: record.size,
      });
      return ref;
    } catch (error) {
      if (isAbortError(error) || work.signal.aborted) throw error;
      this.stats.fallbacks++;
      this.#logger.warn('shared master is unusable; building it instead', {
        imageId: spec.id,
        blob: record.blob,
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    } finally {
      await removeStaging(dir, file);
    }
  }

  /**
   * Whether a master is published for the spec hash: its record is read (one small read, the
   * cost of asking whether it exists) and kept for the next {@link adopt} of the hash.
   */
  async published(hash: string): Promise<boolean> {
    await this.#init();
    const blob = await this.#store.getBlob(this.#container, sharedRecordName(hash));
    if (!blob) return false;
    // A record too big to be one is not kept: adopt reads it again and rejects it.
    if (blob.size <= MAX_SHARED_RECORD_BYTES) this.#seen.set(hash, await blob.text());
    else this.#seen.delete(hash);
    return true;
  }

  /** Whether the store can watch a publication ({@link publicationChanged} wakes on it). */
  get canWatch(): boolean {
    return this.#store.watchBlob !== undefined;
  }

  /**
   * Resolves when the record {@link published} reads for the spec hash may have changed (the
   * store's `watchBlob`), or when `signal` aborts; pending until the abort on a store that cannot
   * watch (S3). A wake-up only: the caller asks {@link published} again.
   */
  async publicationChanged(hash: string, signal: AbortSignal): Promise<void> {
    // Once the container is made, the watch starts before this returns (before a look the caller
    // makes next); a failure to make it only wakes the caller, whose next look reports it.
    if (
      !this.#initialized &&
      !(await this.#init().then(
        () => true,
        () => false,
      ))
    )
      return;
    const watch = this.#store.watchBlob?.bind(this.#store);
    if (watch) return watch(this.#container, sharedRecordName(hash), signal).catch(() => undefined);
    if (signal.aborted) return;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  /**
   * Publishes a master this host built, unless one is shared already. Never throws: a failure
   * (or an abort, which stops it promptly) is logged and counted, and leaves no blob behind.
   */
  async publish(spec: MasterSpec, hash: string, master: MasterRef, work: Work): Promise<void> {
    const exportDisk = this.#provider.exportMasterDisk?.bind(this.#provider);
    if (!exportDisk) {
      this.#logger.debug('provider cannot export masters; not publishing', { imageId: spec.id });
      return;
    }
    let dir: string | undefined;
    let file = '';
    let uploaded: string | undefined;
    try {
      await this.#init();
      if (await this.#store.blobExists(this.#container, sharedRecordName(hash))) return;
      dir = await mkdtemp(join(this.#tmpDir, 'vmkit-shared-'));
      file = join(dir, 'disk');
      const exported = await exportDisk(master, file, {
        compress: true,
        signal: work.signal,
        onProgress: (e) =>
          work.onProgress({ ...e, imageId: spec.id, step: 'publish', fraction: (e.fraction ?? 0) / 2 }),
      });
      if (!SHARED_DISK_FORMATS.includes(exported.format as never))
        throw new VmkitError('UNSUPPORTED', `master disk format ${exported.format} cannot be shared`);
      const { sha256, size } = await digestFile(file, work.signal);
      const unsigned: SharedMasterRecord = {
        schemaVersion: SHARED_MASTER_SCHEMA_VERSION,
        specHash: hash,
        imageId: spec.id,
        blob: sharedDiskName(hash, sha256, exported.format),
        format: exported.format as SharedMasterRecord['format'],
        compression: exported.compression ?? 'none',
        sha256,
        size,
        publishedBy: this.#provider.id,
        publishedAt: new Date().toISOString(),
      };
      const record = this.#signer ? this.#signer.sign(unsigned) : unsigned;
      const report = this.#reporter(work.onProgress, spec.id, 'publish', size, 0.5);
      uploaded = record.blob;
      await uploadFile(this.#store, this.#container, record.blob, file, size, {
        signal: work.signal,
        onBytes: report,
        sha256,
      });
      throwIfAborted(work.signal, `publishing master of ${spec.id}`);
      await this.#store.putBlob(this.#container, sharedRecordName(hash), JSON.stringify(record, null, 2), {
        contentType: 'application/json',
        ifNoneMatch: '*',
        signal: work.signal,
      });
      uploaded = undefined;
      this.stats.published++;
      this.#logger.info('master published to the shared store', {
        imageId: spec.id,
        blob: record.blob,
        bytes: size,
        compression: record.compression,
      });
    } catch (error) {
      if (VmkitError.is(error, 'CONFLICT')) {
        this.#logger.info('another host published this master first', { imageId: spec.id });
      } else {
        this.stats.publishFailures++;
        this.#logger.warn('could not publish master to the shared store; the build stands', {
          imageId: spec.id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      // Another host's record may name the same content-addressed blob: keep it then.
      if (uploaded) await this.#removeUnlessNamed(hash, uploaded);
    } finally {
      if (dir) await removeStaging(dir, file);
    }
  }

  async #findRecord(
    hash: string,
    imageId: string,
    signal: AbortSignal,
  ): Promise<SharedMasterRecord | undefined> {
    try {
      let text = this.#seen.get(hash);
      this.#seen.delete(hash);
      if (text === undefined) {
        await this.#init();
        const blob = await this.#store.getBlob(this.#container, sharedRecordName(hash), { signal });
        if (!blob) return undefined;
        if (blob.size > MAX_SHARED_RECORD_BYTES)
          throw new VmkitError(
            'CORRUPT',
            `shared master record is ${blob.size} bytes (at most ${MAX_SHARED_RECORD_BYTES})`,
          );
        text = await blob.text();
      }
      return parseSharedRecord(text, hash, this.#maxDiskBytes, this.#signer);
    } catch (error) {
      if (isAbortError(error) || signal.aborted) throw error;
      this.stats.fallbacks++;
      this.#logger.warn('shared master record is unusable; building it instead', {
        imageId,
        record: sharedRecordName(hash),
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  }

  async #removeUnlessNamed(hash: string, blob: string): Promise<void> {
    try {
      const current = await this.#store.getBlob(this.#container, sharedRecordName(hash));
      const named = current ? (JSON.parse(await current.text()) as { blob?: unknown }).blob === blob : false;
      if (!named) await this.#store.removeBlob(this.#container, blob);
    } catch (error) {
      this.#logger.warn('could not remove an unpublished shared disk', { blob, error: String(error) });
    }
  }

  #init(): Promise<void> {
    this.#ready ??= this.#store.createContainer(this.#container).then(
      () => {
        this.#initialized = true;
      },
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  #reporter(
    listener: ProgressListener,
    imageId: string,
    step: 'download' | 'publish',
    total: number,
    from = 0,
  ) {
    let last = -1;
    return (bytes: number): void => {
      const fraction = from + (1 - from) * (total > 0 ? Math.min(1, bytes / total) : 1);
      if (fraction - last < 0.01 && bytes !== total) return;
      last = fraction;
      emitProgress(listener, {
        phase: 'transfer',
        imageId,
        step,
        fraction,
        message: `${step === 'download' ? 'downloading' : 'publishing'} shared master of ${imageId}: ${bytes} of ${total} bytes`,
      });
    };
  }
}

/**
 * Removes a staging folder and the disk `file` staged in it: two calls, or the whole folder when a
 * provider left more in it.
 */
async function removeStaging(dir: string, file: string): Promise<void> {
  await unlink(file).catch(() => {});
  await rmdir(dir).catch(() => rm(dir, { recursive: true, force: true }));
}
