import { STRING_MAX, UUID_SIZE } from '../rpc/protocol.js';
import type { XdrReader } from '../rpc/xdr/xdr-reader.js';
import type { XdrWriter } from '../rpc/xdr/xdr-writer.js';

/** A domain (`remote_nonnull_domain`): name, UUID, and id (-1 when not running). */
export interface DomainHandle {
  readonly name: string;
  readonly uuid: Uint8Array;
  readonly id: number;
}

/** A network (`remote_nonnull_network`). */
export interface NetworkHandle {
  readonly name: string;
  readonly uuid: Uint8Array;
}

/** A storage pool (`remote_nonnull_storage_pool`). */
export interface StoragePoolHandle {
  readonly name: string;
  readonly uuid: Uint8Array;
}

/** A storage volume (`remote_nonnull_storage_vol`): pool name, volume name, key (its path for dir pools). */
export interface StorageVolHandle {
  readonly pool: string;
  readonly name: string;
  readonly key: string;
}

/** Writes a {@link DomainHandle}. */
export function writeDomain(w: XdrWriter, d: DomainHandle): void {
  w.string(d.name, STRING_MAX).opaqueFixed(d.uuid, UUID_SIZE).int(d.id);
}

/** Reads a {@link DomainHandle}. */
export function readDomain(r: XdrReader): DomainHandle {
  return { name: r.string(STRING_MAX), uuid: r.opaqueFixed(UUID_SIZE), id: r.int() };
}

/** Writes a {@link NetworkHandle} or {@link StoragePoolHandle} (same layout). */
export function writeNamedUuid(w: XdrWriter, h: NetworkHandle | StoragePoolHandle): void {
  w.string(h.name, STRING_MAX).opaqueFixed(h.uuid, UUID_SIZE);
}

/** Reads a {@link NetworkHandle} or {@link StoragePoolHandle}. */
export function readNamedUuid(r: XdrReader): { name: string; uuid: Uint8Array } {
  return { name: r.string(STRING_MAX), uuid: r.opaqueFixed(UUID_SIZE) };
}

/** Writes a {@link StorageVolHandle}. */
export function writeVol(w: XdrWriter, v: StorageVolHandle): void {
  w.string(v.pool, STRING_MAX).string(v.name, STRING_MAX).string(v.key, STRING_MAX);
}

/** Reads a {@link StorageVolHandle}. */
export function readVol(r: XdrReader): StorageVolHandle {
  return { pool: r.string(STRING_MAX), name: r.string(STRING_MAX), key: r.string(STRING_MAX) };
}

/** A UUID as the usual 8-4-4-4-12 hex string. */
export function uuidString(uuid: Uint8Array): string {
  const hex = Array.from(uuid, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
