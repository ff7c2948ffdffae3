import type { Readable } from 'node:stream';
import {
  downloadCall,
  type StreamTransferOptions,
  type UploadSource,
  uploadCall,
} from '../rpc/data-stream.js';
import { RemoteProcedure as P } from '../rpc/procedures.js';
import { STRING_MAX } from '../rpc/protocol.js';
import { XdrWriter } from '../rpc/xdr/xdr-writer.js';
import {
  readNamedUuid,
  readVol,
  type StoragePoolHandle,
  type StorageVolHandle,
  writeNamedUuid,
  writeVol,
} from './handles.js';
import type { RpcCaller } from './rpc-caller.js';

/** Pool states (`virStoragePoolState`). */
export const StoragePoolState = Object.freeze({
  INACTIVE: 0,
  BUILDING: 1,
  RUNNING: 2,
  DEGRADED: 3,
  INACCESSIBLE: 4,
} as const);

/** A pool's state and sizes in bytes. */
export interface StoragePoolInfo {
  readonly state: number;
  readonly capacity: number;
  readonly allocation: number;
  readonly available: number;
}

/** A volume's type (`virStorageVolType`: 0 file, 1 block, ...) and sizes in bytes. */
export interface StorageVolInfo {
  readonly type: number;
  readonly capacity: number;
  readonly allocation: number;
}

/** Storage pool and volume procedures of the remote program, one method per procedure. */
export class StorageProcedures {
  readonly #rpc: RpcCaller;

  constructor(rpc: RpcCaller) {
    this.#rpc = rpc;
  }

  /** `STORAGE_POOL_DEFINE_XML`: defines a persistent pool. */
  async poolDefineXml(xml: string): Promise<StoragePoolHandle> {
    return readNamedUuid(
      await this.#rpc.call(P.STORAGE_POOL_DEFINE_XML, (w) => w.string(xml, STRING_MAX).uint(0)),
    );
  }

  /** `STORAGE_POOL_CREATE_XML`: creates and starts a transient pool. */
  async poolCreateXml(xml: string, flags = 0): Promise<StoragePoolHandle> {
    return readNamedUuid(
      await this.#rpc.call(P.STORAGE_POOL_CREATE_XML, (w) => w.string(xml, STRING_MAX).uint(flags)),
    );
  }

  /** `STORAGE_POOL_BUILD`: builds a pool's backing (e.g. makes a dir pool's directory). */
  async poolBuild(pool: StoragePoolHandle, flags = 0): Promise<void> {
    await this.#rpc.call(P.STORAGE_POOL_BUILD, (w) => {
      writeNamedUuid(w, pool);
      w.uint(flags);
    });
  }

  /** `STORAGE_POOL_CREATE`: starts a defined pool. */
  async poolCreate(pool: StoragePoolHandle, flags = 0): Promise<void> {
    await this.#rpc.call(P.STORAGE_POOL_CREATE, (w) => {
      writeNamedUuid(w, pool);
      w.uint(flags);
    });
  }

  /** `STORAGE_POOL_DESTROY`: stops a pool (its volumes stay). */
  async poolDestroy(pool: StoragePoolHandle): Promise<void> {
    await this.#rpc.call(P.STORAGE_POOL_DESTROY, (w) => writeNamedUuid(w, pool));
  }

  /** `STORAGE_POOL_UNDEFINE`: removes a pool's persistent definition. */
  async poolUndefine(pool: StoragePoolHandle): Promise<void> {
    await this.#rpc.call(P.STORAGE_POOL_UNDEFINE, (w) => writeNamedUuid(w, pool));
  }

  /** `STORAGE_POOL_REFRESH`: rescans a pool's volumes. */
  async poolRefresh(pool: StoragePoolHandle): Promise<void> {
    await this.#rpc.call(P.STORAGE_POOL_REFRESH, (w) => {
      writeNamedUuid(w, pool);
      w.uint(0);
    });
  }

  /** `STORAGE_POOL_LOOKUP_BY_NAME`; `NOT_FOUND` when there is none. */
  async poolLookupByName(name: string): Promise<StoragePoolHandle> {
    return readNamedUuid(
      await this.#rpc.call(P.STORAGE_POOL_LOOKUP_BY_NAME, (w) => w.string(name, STRING_MAX)),
    );
  }

  /** `STORAGE_POOL_GET_INFO`. */
  async poolGetInfo(pool: StoragePoolHandle): Promise<StoragePoolInfo> {
    const r = await this.#rpc.call(P.STORAGE_POOL_GET_INFO, (w) => writeNamedUuid(w, pool));
    return {
      state: r.int(),
      capacity: r.uhyperNumber(),
      allocation: r.uhyperNumber(),
      available: r.uhyperNumber(),
    };
  }

  /** `STORAGE_POOL_GET_XML_DESC`. */
  async poolGetXmlDesc(pool: StoragePoolHandle, flags = 0): Promise<string> {
    const r = await this.#rpc.call(P.STORAGE_POOL_GET_XML_DESC, (w) => {
      writeNamedUuid(w, pool);
      w.uint(flags);
    });
    return r.string(STRING_MAX);
  }

  /** `STORAGE_POOL_IS_ACTIVE`. */
  async poolIsActive(pool: StoragePoolHandle): Promise<boolean> {
    return (await this.#rpc.call(P.STORAGE_POOL_IS_ACTIVE, (w) => writeNamedUuid(w, pool))).int() !== 0;
  }

  /** `CONNECT_LIST_ALL_STORAGE_POOLS`. */
  async poolListAll(flags = 0): Promise<StoragePoolHandle[]> {
    const r = await this.#rpc.call(P.CONNECT_LIST_ALL_STORAGE_POOLS, (w) => w.int(1).uint(flags));
    const pools = r.array(readNamedUuid, 4096, 20);
    r.uint();
    return pools;
  }

  /** `STORAGE_POOL_LIST_ALL_VOLUMES`. */
  async poolListAllVolumes(pool: StoragePoolHandle): Promise<StorageVolHandle[]> {
    const r = await this.#rpc.call(P.STORAGE_POOL_LIST_ALL_VOLUMES, (w) => {
      writeNamedUuid(w, pool);
      w.int(1).uint(0);
    });
    const vols = r.array(readVol, 16384, 12);
    r.uint();
    return vols;
  }

  /** `STORAGE_VOL_CREATE_XML`: creates a volume (e.g. a qcow2 overlay with a backing store). */
  async volCreateXml(pool: StoragePoolHandle, xml: string, flags = 0): Promise<StorageVolHandle> {
    const r = await this.#rpc.call(P.STORAGE_VOL_CREATE_XML, (w) => {
      writeNamedUuid(w, pool);
      w.string(xml, STRING_MAX).uint(flags);
    });
    return readVol(r);
  }

  /** `STORAGE_VOL_CREATE_XML_FROM`: creates a volume as a full copy of `source`. */
  async volCreateXmlFrom(
    pool: StoragePoolHandle,
    xml: string,
    source: StorageVolHandle,
    flags = 0,
  ): Promise<StorageVolHandle> {
    const r = await this.#rpc.call(P.STORAGE_VOL_CREATE_XML_FROM, (w) => {
      writeNamedUuid(w, pool);
      w.string(xml, STRING_MAX);
      writeVol(w, source);
      w.uint(flags);
    });
    return readVol(r);
  }

  /** `STORAGE_VOL_DELETE`: deletes a volume and its data. */
  async volDelete(vol: StorageVolHandle): Promise<void> {
    await this.#rpc.call(P.STORAGE_VOL_DELETE, (w) => {
      writeVol(w, vol);
      w.uint(0);
    });
  }

  /** `STORAGE_VOL_LOOKUP_BY_NAME`; `NOT_FOUND` when there is none. */
  async volLookupByName(pool: StoragePoolHandle, name: string): Promise<StorageVolHandle> {
    const r = await this.#rpc.call(P.STORAGE_VOL_LOOKUP_BY_NAME, (w) => {
      writeNamedUuid(w, pool);
      w.string(name, STRING_MAX);
    });
    return readVol(r);
  }

  /** `STORAGE_VOL_LOOKUP_BY_KEY`. */
  async volLookupByKey(key: string): Promise<StorageVolHandle> {
    return readVol(await this.#rpc.call(P.STORAGE_VOL_LOOKUP_BY_KEY, (w) => w.string(key, STRING_MAX)));
  }

  /** `STORAGE_VOL_LOOKUP_BY_PATH`. */
  async volLookupByPath(path: string): Promise<StorageVolHandle> {
    return readVol(await this.#rpc.call(P.STORAGE_VOL_LOOKUP_BY_PATH, (w) => w.string(path, STRING_MAX)));
  }

  /** `STORAGE_VOL_GET_INFO`. */
  async volGetInfo(vol: StorageVolHandle): Promise<StorageVolInfo> {
    const r = await this.#rpc.call(P.STORAGE_VOL_GET_INFO, (w) => writeVol(w, vol));
    return { type: r.int(), capacity: r.uhyperNumber(), allocation: r.uhyperNumber() };
  }

  /** `STORAGE_VOL_GET_XML_DESC`. */
  async volGetXmlDesc(vol: StorageVolHandle): Promise<string> {
    const r = await this.#rpc.call(P.STORAGE_VOL_GET_XML_DESC, (w) => {
      writeVol(w, vol);
      w.uint(0);
    });
    return r.string(STRING_MAX);
  }

  /** `STORAGE_VOL_GET_PATH`: the volume's path on the host. */
  async volGetPath(vol: StorageVolHandle): Promise<string> {
    return (await this.#rpc.call(P.STORAGE_VOL_GET_PATH, (w) => writeVol(w, vol))).string(STRING_MAX);
  }

  /** `STORAGE_VOL_UPLOAD`: writes `source` into the volume from `offset` (length 0: all of it). */
  async volUpload(
    vol: StorageVolHandle,
    source: UploadSource,
    range: { offset?: number; length?: number } = {},
    options: StreamTransferOptions = {},
  ): Promise<number> {
    return this.#rpc.stream(P.STORAGE_VOL_UPLOAD, (conn) =>
      uploadCall(conn, P.STORAGE_VOL_UPLOAD, volRangeArgs(vol, range), source, options),
    );
  }

  /** `STORAGE_VOL_DOWNLOAD`: the volume's bytes from `offset` (length 0: to the end) as a stream. */
  async volDownload(
    vol: StorageVolHandle,
    range: { offset?: number; length?: number } = {},
    options: StreamTransferOptions = {},
  ): Promise<Readable> {
    return this.#rpc.stream(P.STORAGE_VOL_DOWNLOAD, (conn) =>
      downloadCall(conn, P.STORAGE_VOL_DOWNLOAD, volRangeArgs(vol, range), options),
    );
  }
}

function volRangeArgs(vol: StorageVolHandle, range: { offset?: number; length?: number }): Uint8Array {
  const w = new XdrWriter();
  writeVol(w, vol);
  w.uhyper(range.offset ?? 0)
    .uhyper(range.length ?? 0)
    .uint(0);
  return w.bytes();
}
