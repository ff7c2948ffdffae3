import { RemoteProcedure as P } from '../rpc/procedures.js';
import { STRING_MAX } from '../rpc/protocol.js';
import type { XdrReader } from '../rpc/xdr/xdr-reader.js';
import { type DomainHandle, readDomain, writeDomain } from './handles.js';
import type { RpcCaller } from './rpc-caller.js';

/** Domain states (`virDomainState`). */
export const DomainState = Object.freeze({
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const);

/** Why a domain is paused (`virDomainPausedReason`), the reason of {@link DomainState}.PAUSED. */
export const DomainPausedReason = Object.freeze({ USER: 1, IOERROR: 5, WATCHDOG: 6, CRASHED: 10 } as const);
/** Why a domain is shut off (`virDomainShutoffReason`), the reason of {@link DomainState}.SHUTOFF. */
export const DomainShutoffReason = Object.freeze({
  UNKNOWN: 0,
  SHUTDOWN: 1,
  DESTROYED: 2,
  CRASHED: 3,
  FAILED: 6,
  DAEMON: 8,
} as const);
/** A disk's error (`virDomainDiskErrorCode`), from {@link DomainProcedures.getDiskErrors}. */
export const DomainDiskErrorCode = Object.freeze({ NONE: 0, UNSPEC: 1, NO_SPACE: 2 } as const);

/** Flags of `undefine` (`virDomainUndefineFlagsValues`). */
export const DomainUndefineFlags = Object.freeze({
  MANAGED_SAVE: 1,
  SNAPSHOTS_METADATA: 2,
  NVRAM: 4,
  KEEP_NVRAM: 8,
} as const);
/** Flags of `getXmlDesc` (`virDomainXMLFlags`). */
export const DomainXmlFlags = Object.freeze({ SECURE: 1, INACTIVE: 2, MIGRATABLE: 8 } as const);
/** Where `interfaceAddresses` looks (`virDomainInterfaceAddressesSource`). */
export const InterfaceAddressSource = Object.freeze({ LEASE: 0, AGENT: 1, ARP: 2 } as const);
/** Flags of `save` and `restore` (`virDomainSaveRestoreFlags`). */
export const DomainSaveFlags = Object.freeze({ BYPASS_CACHE: 1, RUNNING: 2, PAUSED: 4 } as const);
/** Kinds of domain metadata (`virDomainMetadataType`). */
export const DomainMetadataType = Object.freeze({ DESCRIPTION: 0, TITLE: 1, ELEMENT: 2 } as const);
/** Which definition a change affects (`virDomainModificationImpact`). */
export const DomainAffect = Object.freeze({ CURRENT: 0, LIVE: 1, CONFIG: 2 } as const);

/** One address of a guest interface. */
export interface DomainIpAddress {
  /** 0 IPv4, 1 IPv6. */
  readonly type: number;
  readonly addr: string;
  readonly prefix: number;
}

/** A guest interface with its addresses. */
export interface DomainInterface {
  readonly name: string;
  readonly hwaddr?: string;
  readonly addrs: readonly DomainIpAddress[];
}

/** Domain procedures of the remote program, one method per procedure. */
export class DomainProcedures {
  readonly #rpc: RpcCaller;

  constructor(rpc: RpcCaller) {
    this.#rpc = rpc;
  }

  /** `DOMAIN_DEFINE_XML_FLAGS`: defines (or redefines) a persistent domain. */
  async defineXml(xml: string, flags = 0): Promise<DomainHandle> {
    return readDomain(
      await this.#rpc.call(P.DOMAIN_DEFINE_XML_FLAGS, (w) => w.string(xml, STRING_MAX).uint(flags)),
    );
  }

  /** `DOMAIN_UNDEFINE_FLAGS`: removes a domain's persistent definition. */
  async undefine(dom: DomainHandle, flags = 0): Promise<void> {
    await this.#rpc.call(P.DOMAIN_UNDEFINE_FLAGS, (w) => {
      writeDomain(w, dom);
      w.uint(flags);
    });
  }

  /** `DOMAIN_CREATE_WITH_FLAGS`: starts a defined domain; returns it with its new id. */
  async create(dom: DomainHandle, flags = 0): Promise<DomainHandle> {
    const r = await this.#rpc.call(P.DOMAIN_CREATE_WITH_FLAGS, (w) => {
      writeDomain(w, dom);
      w.uint(flags);
    });
    return readDomain(r);
  }

  /** `DOMAIN_DESTROY_FLAGS`: powers a domain off at once. */
  async destroy(dom: DomainHandle, flags = 0): Promise<void> {
    await this.#rpc.call(P.DOMAIN_DESTROY_FLAGS, (w) => {
      writeDomain(w, dom);
      w.uint(flags);
    });
  }

  /** `DOMAIN_SHUTDOWN_FLAGS`: asks the guest to shut down (ACPI by default). */
  async shutdown(dom: DomainHandle, flags = 0): Promise<void> {
    await this.#rpc.call(P.DOMAIN_SHUTDOWN_FLAGS, (w) => {
      writeDomain(w, dom);
      w.uint(flags);
    });
  }

  /** `DOMAIN_REBOOT`: asks the guest to reboot. */
  async reboot(dom: DomainHandle, flags = 0): Promise<void> {
    await this.#rpc.call(P.DOMAIN_REBOOT, (w) => {
      writeDomain(w, dom);
      w.uint(flags);
    });
  }

  /**
   * `DOMAIN_SEND_KEY`: presses `keycodes` together (at most 16, Linux input keycodes by default:
   * codeset 0), holds them `holdMs` milliseconds (0: libvirt's default) and releases them.
   */
  async sendKey(dom: DomainHandle, keycodes: readonly number[], holdMs = 0, codeset = 0): Promise<void> {
    await this.#rpc.call(P.DOMAIN_SEND_KEY, (w) => {
      writeDomain(w, dom);
      w.uint(codeset);
      w.uint(holdMs);
      w.array(keycodes, (x, k) => x.uint(k), 16);
      w.uint(0);
    });
  }

  /** `DOMAIN_SUSPEND`: pauses a running domain. */
  async suspend(dom: DomainHandle): Promise<void> {
    await this.#rpc.call(P.DOMAIN_SUSPEND, (w) => writeDomain(w, dom));
  }

  /** `DOMAIN_RESUME`: resumes a paused domain. */
  async resume(dom: DomainHandle): Promise<void> {
    await this.#rpc.call(P.DOMAIN_RESUME, (w) => writeDomain(w, dom));
  }

  /**
   * `DOMAIN_SAVE_FLAGS`: saves a running domain's memory and device state into the file `to` (a
   * path on the daemon's host) and stops it; `flags` are `virDomainSaveRestoreFlags`.
   */
  async save(dom: DomainHandle, to: string, flags = 0, signal?: AbortSignal): Promise<void> {
    await this.#rpc.call(
      P.DOMAIN_SAVE_FLAGS,
      (w) => {
        writeDomain(w, dom);
        w.string(to, STRING_MAX);
        w.optional(undefined as string | undefined, (x, v) => x.string(v, STRING_MAX));
        w.uint(flags);
      },
      signal,
    );
  }

  /**
   * `DOMAIN_RESTORE_FLAGS`: starts a domain from a save image at `from` (a path on the daemon's
   * host), under the name and UUID its XML carries; {@link DomainSaveFlags}.
   */
  async restore(from: string, flags = 0, signal?: AbortSignal): Promise<void> {
    await this.#rpc.call(
      P.DOMAIN_RESTORE_FLAGS,
      (w) => {
        w.string(from, STRING_MAX);
        w.optional(undefined as string | undefined, (x, v) => x.string(v, STRING_MAX));
        w.uint(flags);
      },
      signal,
    );
  }

  /**
   * `DOMAIN_SET_TIME`: sets the guest's clock through its agent (`guest-set-time`) to `seconds`
   * and `nanoseconds` since the epoch.
   */
  async setTime(
    dom: DomainHandle,
    seconds: number,
    nanoseconds: number,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.#rpc.call(
      P.DOMAIN_SET_TIME,
      (w) => {
        writeDomain(w, dom);
        w.hyper(seconds).uint(nanoseconds).uint(0);
      },
      signal,
    );
  }

  /** `DOMAIN_LOOKUP_BY_NAME`; `NOT_FOUND` when there is none. */
  async lookupByName(name: string): Promise<DomainHandle> {
    return readDomain(await this.#rpc.call(P.DOMAIN_LOOKUP_BY_NAME, (w) => w.string(name, STRING_MAX)));
  }

  /** `DOMAIN_LOOKUP_BY_UUID`. */
  async lookupByUuid(uuid: Uint8Array): Promise<DomainHandle> {
    return readDomain(await this.#rpc.call(P.DOMAIN_LOOKUP_BY_UUID, (w) => w.opaqueFixed(uuid, 16)));
  }

  /** `CONNECT_LIST_ALL_DOMAINS`: every domain (flags filter, 0 for all). */
  async listAll(flags = 0): Promise<DomainHandle[]> {
    const r = await this.#rpc.call(P.CONNECT_LIST_ALL_DOMAINS, (w) => w.int(1).uint(flags));
    const domains = r.array(readDomain, 16384, 24);
    r.uint();
    return domains;
  }

  /** `DOMAIN_GET_XML_DESC`: the domain's XML. */
  async getXmlDesc(dom: DomainHandle, flags = 0): Promise<string> {
    const r = await this.#rpc.call(P.DOMAIN_GET_XML_DESC, (w) => {
      writeDomain(w, dom);
      w.uint(flags);
    });
    return r.string(STRING_MAX);
  }

  /** `DOMAIN_GET_STATE`: state ({@link DomainState}) and reason. */
  async getState(dom: DomainHandle): Promise<{ state: number; reason: number }> {
    const r = await this.#rpc.call(P.DOMAIN_GET_STATE, (w) => {
      writeDomain(w, dom);
      w.uint(0);
    });
    return { state: r.int(), reason: r.int() };
  }

  /**
   * `DOMAIN_GET_DISK_ERRORS`: the disks (target names, `vda`) whose last I/O failed, with
   * {@link DomainDiskErrorCode}; QEMU keeps them while the domain is paused on the error.
   */
  async getDiskErrors(dom: DomainHandle): Promise<Array<{ disk: string; error: number }>> {
    const r = await this.#rpc.call(P.DOMAIN_GET_DISK_ERRORS, (w) => {
      writeDomain(w, dom);
      w.uint(256).uint(0);
    });
    const errors = r.array((x) => ({ disk: x.string(STRING_MAX), error: x.int() }), 256, 8);
    r.int();
    return errors;
  }

  /** `DOMAIN_IS_ACTIVE`. */
  async isActive(dom: DomainHandle): Promise<boolean> {
    return (await this.#rpc.call(P.DOMAIN_IS_ACTIVE, (w) => writeDomain(w, dom))).int() !== 0;
  }

  /**
   * `DOMAIN_INTERFACE_ADDRESSES`: the guest's addresses, from DHCP leases, the agent or ARP
   * ({@link InterfaceAddressSource}); `signal` ends the wait (an agent may be slow to answer).
   */
  async interfaceAddresses(
    dom: DomainHandle,
    source: number = InterfaceAddressSource.LEASE,
    signal?: AbortSignal,
  ): Promise<DomainInterface[]> {
    const r = await this.#rpc.call(
      P.DOMAIN_INTERFACE_ADDRESSES,
      (w) => {
        writeDomain(w, dom);
        w.uint(source).uint(0);
      },
      signal,
    );
    return r.array(readInterface, 2048, 12);
  }

  /** `DOMAIN_SET_METADATA`: sets (or with `undefined`, removes) a metadata element. */
  async setMetadata(
    dom: DomainHandle,
    type: number,
    metadata: string | undefined,
    key: string | undefined,
    uri: string | undefined,
    flags: number = DomainAffect.CONFIG,
  ): Promise<void> {
    await this.#rpc.call(P.DOMAIN_SET_METADATA, (w) => {
      writeDomain(w, dom);
      w.int(type);
      w.optional(metadata, (x, v) => x.string(v, STRING_MAX));
      w.optional(key, (x, v) => x.string(v, STRING_MAX));
      w.optional(uri, (x, v) => x.string(v, STRING_MAX));
      w.uint(flags);
    });
  }

  /** `DOMAIN_GET_METADATA`: a metadata element by namespace URI; `NOT_FOUND`-like error when absent. */
  async getMetadata(dom: DomainHandle, type: number, uri: string | undefined, flags = 0): Promise<string> {
    const r = await this.#rpc.call(P.DOMAIN_GET_METADATA, (w) => {
      writeDomain(w, dom);
      w.int(type);
      w.optional(uri, (x, v) => x.string(v, STRING_MAX));
      w.uint(flags);
    });
    return r.string(STRING_MAX);
  }
}

function readInterface(r: XdrReader): DomainInterface {
  const name = r.string(STRING_MAX);
  const hwaddr = r.optional((x) => x.string(STRING_MAX));
  const addrs = r.array((x) => ({ type: x.int(), addr: x.string(STRING_MAX), prefix: x.uint() }), 2048, 12);
  return hwaddr === undefined ? { name, addrs } : { name, hwaddr, addrs };
}
