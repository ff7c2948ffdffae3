import { RemoteProcedure as P } from '../rpc/procedures.js';
import { STRING_MAX } from '../rpc/protocol.js';
import { type DomainHandle, writeDomain } from './handles.js';
import type { RpcCaller } from './rpc-caller.js';

/** Flags of `blockCopy` (`virDomainBlockCopyFlags`), the ones vmkit uses. */
export const BlockCopyFlags = Object.freeze({
  /** Required on a persistent domain: the job is not kept across a restart of the VM. */
  TRANSIENT_JOB: 4,
} as const);

/** A block job of a disk as `GET_BLOCK_JOB_INFO` reports it (`virDomainBlockJobInfo`). */
export interface BlockJobInfo {
  /** `virDomainBlockJobType` (2: copy). */
  readonly type: number;
  /** Bytes done so far and in all: a copy is in sync (ready) when they are equal. */
  readonly cur: bigint;
  readonly end: bigint;
}

/**
 * Block job and file system freeze procedures of the remote program: a disk copied while the
 * domain runs (`DOMAIN_BLOCK_COPY`), the job watched and ended, and the guest's file systems frozen
 * and thawed through its agent. One method per procedure.
 */
export class BlockJobProcedures {
  readonly #rpc: RpcCaller;

  constructor(rpc: RpcCaller) {
    this.#rpc = rpc;
  }

  /**
   * `DOMAIN_BLOCK_COPY`: starts mirroring the disk `disk` (target name or source path) into the
   * file `<disk>` XML `destXml` describes (an absolute path); a full copy (not shallow) reads the
   * whole backing chain. No tuning parameters are sent.
   */
  async blockCopy(dom: DomainHandle, disk: string, destXml: string, flags = 0): Promise<void> {
    await this.#rpc.call(P.DOMAIN_BLOCK_COPY, (w) => {
      writeDomain(w, dom);
      w.string(disk, STRING_MAX).string(destXml, STRING_MAX).uint(0).uint(flags);
    });
  }

  /** `DOMAIN_GET_BLOCK_JOB_INFO`: the disk's block job, or `undefined` when it has none. */
  async jobInfo(dom: DomainHandle, disk: string): Promise<BlockJobInfo | undefined> {
    const r = await this.#rpc.call(P.DOMAIN_GET_BLOCK_JOB_INFO, (w) => {
      writeDomain(w, dom);
      w.string(disk, STRING_MAX).uint(0);
    });
    const found = r.int();
    const type = r.int();
    r.uhyper(); // bandwidth
    const cur = r.uhyper();
    const end = r.uhyper();
    return found === 1 ? { type, cur, end } : undefined;
  }

  /**
   * `DOMAIN_BLOCK_JOB_ABORT`: ends the disk's block job (flags 0: no pivot, and libvirt waits for
   * the end). A copy that was in sync is complete, a point-in-time copy of the moment of the call.
   */
  async jobAbort(dom: DomainHandle, disk: string, flags = 0): Promise<void> {
    await this.#rpc.call(P.DOMAIN_BLOCK_JOB_ABORT, (w) => {
      writeDomain(w, dom);
      w.string(disk, STRING_MAX).uint(flags);
    });
  }

  /**
   * `DOMAIN_FSFREEZE` with no mount points (an empty array: all of them): freezes every file system
   * of the guest through its agent; returns how many.
   */
  async fsFreeze(dom: DomainHandle): Promise<number> {
    const r = await this.#rpc.call(P.DOMAIN_FSFREEZE, (w) => {
      writeDomain(w, dom);
      w.uint(0).uint(0);
    });
    return r.int();
  }

  /** `DOMAIN_FSTHAW`: thaws the guest's file systems; returns how many. */
  async fsThaw(dom: DomainHandle): Promise<number> {
    const r = await this.#rpc.call(P.DOMAIN_FSTHAW, (w) => {
      writeDomain(w, dom);
      w.uint(0).uint(0);
    });
    return r.int();
  }
}
