import { RemoteProcedure as P } from '../rpc/procedures.js';
import { STRING_MAX } from '../rpc/protocol.js';
import type { XdrReader } from '../rpc/xdr/xdr-reader.js';
import type { XdrWriter } from '../rpc/xdr/xdr-writer.js';
import { type DomainHandle, readDomain, writeDomain } from './handles.js';
import type { RpcCaller } from './rpc-caller.js';

/** A domain snapshot (`remote_nonnull_domain_snapshot`): its name, then its domain. */
export interface DomainSnapshotHandle {
  readonly name: string;
  readonly dom: DomainHandle;
}

/** Flags of `create` (`virDomainSnapshotCreateFlags`), the ones vmkit uses. */
export const SnapshotCreateFlags = Object.freeze({ ATOMIC: 128 } as const);
/** Flags of `listAll` (`virDomainSnapshotListFlags`), the ones vmkit uses. */
export const SnapshotListFlags = Object.freeze({ TOPOLOGICAL: 1024 } as const);
/** Flags of `revert` (`virDomainSnapshotRevertFlags`). */
export const SnapshotRevertFlags = Object.freeze({ RUNNING: 1, PAUSED: 2, FORCE: 4 } as const);

/** libvirt's most snapshots in one listing (`REMOTE_DOMAIN_SNAPSHOT_LIST_MAX` in 9.0). */
const SNAPSHOT_LIST_MAX = 16384;

function writeSnapshot(w: XdrWriter, s: DomainSnapshotHandle): void {
  w.string(s.name, STRING_MAX);
  writeDomain(w, s.dom);
}

function readSnapshot(r: XdrReader): DomainSnapshotHandle {
  return { name: r.string(STRING_MAX), dom: readDomain(r) };
}

/** Domain snapshot procedures of the remote program, one method per procedure. */
export class SnapshotProcedures {
  readonly #rpc: RpcCaller;

  constructor(rpc: RpcCaller) {
    this.#rpc = rpc;
  }

  /**
   * `DOMAIN_SNAPSHOT_CREATE_XML`: takes a snapshot described by `<domainsnapshot>` XML. A running
   * QEMU domain's internal snapshot pauses its vCPUs for the whole memory dump.
   */
  async create(dom: DomainHandle, xml: string, flags = 0): Promise<DomainSnapshotHandle> {
    const r = await this.#rpc.call(P.DOMAIN_SNAPSHOT_CREATE_XML, (w) => {
      writeDomain(w, dom);
      w.string(xml, STRING_MAX).uint(flags);
    });
    return readSnapshot(r);
  }

  /** `DOMAIN_SNAPSHOT_GET_XML_DESC`: the snapshot's XML (name, description, state, creation time, parent). */
  async getXmlDesc(snap: DomainSnapshotHandle, flags = 0): Promise<string> {
    const r = await this.#rpc.call(P.DOMAIN_SNAPSHOT_GET_XML_DESC, (w) => {
      writeSnapshot(w, snap);
      w.uint(flags);
    });
    return r.string(STRING_MAX);
  }

  /** `DOMAIN_SNAPSHOT_LOOKUP_BY_NAME`; `NOT_FOUND` when the domain has none of that name. */
  async lookupByName(dom: DomainHandle, name: string): Promise<DomainSnapshotHandle> {
    const r = await this.#rpc.call(P.DOMAIN_SNAPSHOT_LOOKUP_BY_NAME, (w) => {
      writeDomain(w, dom);
      w.string(name, STRING_MAX).uint(0);
    });
    return readSnapshot(r);
  }

  /** `DOMAIN_LIST_ALL_SNAPSHOTS`: the domain's snapshots (flags filter and order, 0 for all). */
  async listAll(dom: DomainHandle, flags = 0): Promise<DomainSnapshotHandle[]> {
    const r = await this.#rpc.call(P.DOMAIN_LIST_ALL_SNAPSHOTS, (w) => {
      writeDomain(w, dom);
      w.int(1).uint(flags);
    });
    const snaps = r.array(readSnapshot, SNAPSHOT_LIST_MAX, 28);
    r.int();
    return snaps;
  }

  /**
   * The domain's current snapshot, or `undefined` when it has none (`DOMAIN_HAS_CURRENT_SNAPSHOT`,
   * then `DOMAIN_SNAPSHOT_CURRENT`, which fails on a domain without one).
   */
  async current(dom: DomainHandle): Promise<DomainSnapshotHandle | undefined> {
    const has = await this.#rpc.call(P.DOMAIN_HAS_CURRENT_SNAPSHOT, (w) => {
      writeDomain(w, dom);
      w.uint(0);
    });
    if (has.int() === 0) return undefined;
    const r = await this.#rpc.call(P.DOMAIN_SNAPSHOT_CURRENT, (w) => {
      writeDomain(w, dom);
      w.uint(0);
    });
    return readSnapshot(r);
  }

  /**
   * `DOMAIN_REVERT_TO_SNAPSHOT` ({@link SnapshotRevertFlags}). With QEMU a running snapshot
   * restarts the QEMU process (the domain id changes); a shut-off one leaves the domain shut off.
   */
  async revert(snap: DomainSnapshotHandle, flags = 0): Promise<void> {
    await this.#rpc.call(P.DOMAIN_REVERT_TO_SNAPSHOT, (w) => {
      writeSnapshot(w, snap);
      w.uint(flags);
    });
  }

  /** `DOMAIN_SNAPSHOT_DELETE`: deletes the snapshot (its data and metadata); children stay. */
  async delete(snap: DomainSnapshotHandle, flags = 0): Promise<void> {
    await this.#rpc.call(P.DOMAIN_SNAPSHOT_DELETE, (w) => {
      writeSnapshot(w, snap);
      w.uint(flags);
    });
  }
}
