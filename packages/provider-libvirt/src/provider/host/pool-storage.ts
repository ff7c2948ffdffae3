import { open, stat } from 'node:fs/promises';
import {
  assertFreeSpace,
  noSpaceError,
  retryRetryable,
  type SpaceNeed,
  VmkitError,
  type WritePlace,
} from '@vmkit/core/spi';
import type { StoragePoolHandle, StorageVolHandle } from '../../client/handles.js';
import type { LibvirtClient } from '../../client/libvirt-client.js';
import { wasInterrupted } from '../../client/retry-safety.js';
import { StoragePoolState } from '../../client/storage-procedures.js';
import { alreadyExists, LibvirtError, LibvirtErrorCode } from '../../errors/libvirt-error.js';
import type { StreamTransferOptions } from '../../rpc/data-stream.js';
import { dirPoolXml, volumeXml } from '../xml/storage-xml.js';
import { parseXml } from '../xml/xml-text.js';

/** How long a pool rescan waits for another client's volume job in the pool to end. */
const POOL_BUSY_BUDGET_MS = 60_000;

/**
 * Whether libvirt refused to rescan a pool because a volume job (an upload or download of any
 * client on the host) is running in it: `VIR_ERR_INTERNAL_ERROR`, "has asynchronous jobs running".
 */
export function isPoolBusy(error: unknown): boolean {
  return (
    LibvirtError.hasCode(error, LibvirtErrorCode.INTERNAL_ERROR) &&
    error.libvirtMessage.includes('asynchronous jobs running')
  );
}

/** vmkit's storage pool: made if missing, and the volume operations the provider needs. */
export class PoolStorage {
  readonly #client: LibvirtClient;
  readonly #name: string;
  readonly #path: string;
  #pool: StoragePoolHandle | undefined;

  constructor(client: LibvirtClient, name: string, path: string) {
    this.#client = client;
    this.#name = name;
    this.#path = path;
  }

  /** The pool's name. */
  get name(): string {
    return this.#name;
  }

  /** The pool as core's free-space rules name it (`details.field` is the provider option `pool`). */
  get place(): WritePlace {
    return { kind: 'pool', name: this.#name, field: 'pool' };
  }

  /**
   * Bytes free in the pool now (`STORAGE_POOL_GET_INFO`'s available bytes after a rescan, so
   * what QEMU wrote behind libvirt's back counts).
   */
  async freeBytes(): Promise<number> {
    await this.refresh().catch(() => {});
    return (await this.#client.storage.poolGetInfo(await this.pool())).available;
  }

  /** The early free-space check: `PROVIDER` (reason `no-space`) when `needs` do not fit (see `assertFreeSpace`). */
  async assertFits(needs: readonly SpaceNeed[]): Promise<void> {
    assertFreeSpace(this.place, await this.freeBytes(), needs);
  }

  /** The pool, defined, built and started if needed. */
  async pool(): Promise<StoragePoolHandle> {
    if (this.#pool) return this.#pool;
    const s = this.#client.storage;
    let pool: StoragePoolHandle;
    try {
      pool = await s.poolLookupByName(this.#name);
    } catch (error) {
      if (!VmkitError.is(error, 'NOT_FOUND')) throw error;
      pool = await s.poolDefineXml(dirPoolXml(this.#name, this.#path));
      await s.poolBuild(pool).catch(() => {});
    }
    const info = await s.poolGetInfo(pool);
    if (info.state !== StoragePoolState.RUNNING) {
      await s.poolCreate(pool).catch(async (error: unknown) => {
        if (!(await s.poolIsActive(pool))) throw error;
      });
    }
    this.#pool = pool;
    return pool;
  }

  /** The pool's directory as the daemon sees it. */
  async targetPath(): Promise<string> {
    const xml = await this.#client.storage.poolGetXmlDesc(await this.pool());
    const doc = parseXml(xml) as { pool?: { target?: { path?: string } } };
    return doc.pool?.target?.path ?? this.#path;
  }

  /** A volume by name, or `undefined`. */
  async find(name: string): Promise<StorageVolHandle | undefined> {
    try {
      return await this.#client.storage.volLookupByName(await this.pool(), name);
    } catch (error) {
      if (VmkitError.is(error, 'NOT_FOUND')) return undefined;
      throw error;
    }
  }

  /**
   * Creates a volume from XML options; `CONFLICT` when the name is taken. A creation whose
   * connection was lost before the answer looks (by name, on the next connection) whether it
   * happened, and takes the volume as made if so: vmkit's volume names are unique to one node or
   * build, so a volume of that name that appeared meanwhile is this creation's.
   */
  async create(opts: Parameters<typeof volumeXml>[0]): Promise<StorageVolHandle> {
    try {
      return await this.#client.storage.volCreateXml(await this.pool(), volumeXml(opts));
    } catch (error) {
      if (wasInterrupted(error)) return madeAnyway(await this.find(opts.name), error);
      if (await this.find(opts.name)) {
        throw new VmkitError('CONFLICT', `volume ${opts.name} already exists in pool ${this.#name}`, {
          cause: error,
        });
      }
      throw await this.#orNoSpace(error, `volume ${opts.name}`);
    }
  }

  /** Creates a volume as a full copy of `source`; `CONFLICT` when the name is taken (an interrupted copy: as {@link PoolStorage.create}). */
  async copy(name: string, source: StorageVolHandle, format: 'qcow2' | 'raw'): Promise<StorageVolHandle> {
    const info = await this.#client.storage.volGetInfo(source);
    try {
      return await this.#client.storage.volCreateXmlFrom(
        await this.pool(),
        volumeXml({ name, capacityBytes: info.capacity, format }),
        source,
      );
    } catch (error) {
      if (wasInterrupted(error)) return madeAnyway(await this.find(name), error);
      if (alreadyExists(error)) {
        throw new VmkitError('CONFLICT', `volume ${name} already exists in pool ${this.#name}`, {
          cause: error,
        });
      }
      throw await this.#orNoSpace(error, `volume ${name}`);
    }
  }

  /**
   * The `no-space` error (see `noSpaceError`) naming this pool and its free bytes when libvirt
   * failed to write `what` because the pool's file system is full (`ENOSPC`); `error` otherwise.
   */
  async #orNoSpace(error: unknown, what: string): Promise<unknown> {
    if (!(error instanceof LibvirtError) || !/No space left on device/i.test(error.libvirtMessage))
      return error;
    const freeBytes = await this.freeBytes().catch(() => undefined);
    return noSpaceError(
      {
        place: this.place,
        what: `writing ${what} found no space left (ENOSPC)`,
        ...(freeBytes === undefined ? {} : { freeBytes }),
      },
      { cause: error },
    );
  }

  /**
   * Rescans the pool's directory, so files written behind libvirt's back (console logs) are
   * volumes. libvirt refuses a rescan while a volume job of any client (an upload, a download)
   * runs in the pool: the rescan is tried again until the job ends (pauses up to 1 s, 60 s in all).
   */
  async refresh(signal?: AbortSignal): Promise<void> {
    const pool = await this.pool();
    await retryRetryable(() => this.#client.storage.poolRefresh(pool), {
      retryIf: isPoolBusy,
      attempts: Number.MAX_SAFE_INTEGER,
      baseDelayMs: 50,
      maxDelayMs: 1000,
      budgetMs: POOL_BUSY_BUDGET_MS,
      ...(signal ? { signal } : {}),
    });
  }

  /** Deletes a volume; absent is not an error. */
  async delete(name: string): Promise<void> {
    const vol = await this.find(name);
    if (!vol) return;
    try {
      await this.#client.storage.volDelete(vol);
    } catch (error) {
      if (!VmkitError.is(error, 'NOT_FOUND')) throw error;
    }
  }

  /** A volume's path on the daemon's host. */
  async path(vol: StorageVolHandle): Promise<string> {
    return this.#client.storage.volGetPath(vol);
  }

  /** Creates a raw volume holding `data` (uploaded through the stream API; see {@link PoolStorage.createFromFile} for an interrupted upload). */
  async createWithData(
    name: string,
    data: Uint8Array,
    options: StreamTransferOptions = {},
  ): Promise<StorageVolHandle> {
    return this.#createAndUpload({ name, capacityBytes: data.length, format: 'raw' }, options, (vol) =>
      this.#client.storage.volUpload(vol, data, {}, options),
    );
  }

  /**
   * Deletes a volume whose upload failed; gives the error to throw: the upload's, or one naming
   * the volume left when it could not be deleted either.
   */
  async #dropAfterFailedUpload(vol: StorageVolHandle, name: string, error: unknown): Promise<unknown> {
    try {
      await this.#client.storage.volDelete(vol);
      return error;
    } catch (deleteError) {
      if (VmkitError.is(deleteError, 'NOT_FOUND')) return error;
      return new VmkitError(
        'PROVIDER',
        `upload of volume ${name} failed (${(error as Error).message}) and the volume could not be deleted ` +
          `from pool ${this.#name} (${(deleteError as Error).message})`,
        { cause: error, retryable: false, fault: 'environment', details: { leftovers: [`volume ${name}`] } },
      );
    }
  }

  /**
   * Creates a volume from a local file (uploaded through the stream API). An upload interrupted
   * by a lost connection starts again from the first byte on the next connection, the volume
   * deleted and made again (3 tries in all): the data is here, so a restarted
   * daemon costs time, not the volume.
   */
  async createFromFile(
    name: string,
    file: string,
    format: 'qcow2' | 'raw',
    capacityBytes: number,
    options: StreamTransferOptions = {},
  ): Promise<StorageVolHandle> {
    const size = (await stat(file)).size;
    const volume = { name, capacityBytes: format === 'raw' ? size : capacityBytes, format };
    return this.#createAndUpload(volume, options, async (vol) => {
      const handle = await open(file, 'r');
      try {
        await this.#client.storage.volUpload(
          vol,
          handle.createReadStream({ highWaterMark: 1 << 20 }),
          {},
          options,
        );
      } finally {
        await handle.close();
      }
    });
  }

  /**
   * Creates a volume and runs `upload` into it. A failed upload deletes the volume; one
   * interrupted by a lost connection (`details.interrupted`) is run again from the start, on a
   * volume made again, up to `UPLOAD_ATTEMPTS` times in all.
   */
  async #createAndUpload(
    volume: Parameters<typeof volumeXml>[0],
    options: StreamTransferOptions,
    upload: (vol: StorageVolHandle) => Promise<unknown>,
  ): Promise<StorageVolHandle> {
    // The failure of an upload cut off by a lost connection, as it came (the one tried again).
    let interrupted: unknown;
    return retryRetryable(
      async () => {
        interrupted = undefined;
        const vol = await this.create(volume);
        try {
          await upload(vol);
          return vol;
        } catch (error) {
          const failure = await this.#dropAfterFailedUpload(
            vol,
            volume.name,
            unsupportedUpload(await this.#orNoSpace(error, `volume ${volume.name}`)),
          );
          if (failure === error && wasInterrupted(error)) interrupted = error;
          throw failure;
        }
      },
      {
        attempts: UPLOAD_ATTEMPTS,
        baseDelayMs: 0,
        retryIf: (error) => error === interrupted,
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
  }
}

/** How many times an upload interrupted by a lost connection is tried in all. */
const UPLOAD_ATTEMPTS = 3;

/** The volume an interrupted creation made after all, or its error when it made none. */
function madeAnyway(vol: StorageVolHandle | undefined, error: unknown): StorageVolHandle {
  if (vol) return vol;
  throw error;
}

function unsupportedUpload(error: unknown): unknown {
  if (LibvirtError.hasCode(error, LibvirtErrorCode.NO_SUPPORT)) {
    return new VmkitError(
      'UNSUPPORTED',
      `this libvirt driver cannot upload volume data: ${error.libvirtMessage}`,
      {
        cause: error,
      },
    );
  }
  return error;
}
