import { RemoteProcedure as P } from '../rpc/procedures.js';
import { STRING_MAX } from '../rpc/protocol.js';
import type { XdrReader } from '../rpc/xdr/xdr-reader.js';
import type { XdrWriter } from '../rpc/xdr/xdr-writer.js';
import type { RpcCaller } from './rpc-caller.js';

/** A host network interface (`remote_nonnull_interface`): its name and MAC address. */
export interface InterfaceHandle {
  readonly name: string;
  readonly mac: string;
}

/** `VIR_CONNECT_LIST_INTERFACES_ACTIVE`: only interfaces that are up. */
export const LIST_INTERFACES_ACTIVE = 2;

/** Most interfaces a listing returns (`REMOTE_INTERFACE_LIST_MAX`). */
const INTERFACE_LIST_MAX = 16384;

function readInterface(r: XdrReader): InterfaceHandle {
  return { name: r.string(STRING_MAX), mac: r.string(STRING_MAX) };
}

function writeInterface(w: XdrWriter, iface: InterfaceHandle): void {
  w.string(iface.name, STRING_MAX).string(iface.mac, STRING_MAX);
}

/**
 * Host interface procedures of the remote program (libvirt's interface driver: on Debian's
 * libvirt 9.0 without netcf, its udev backend lists the host's bridges and NICs read-only).
 */
export class InterfaceProcedures {
  readonly #rpc: RpcCaller;

  constructor(rpc: RpcCaller) {
    this.#rpc = rpc;
  }

  /** `CONNECT_LIST_ALL_INTERFACES`: every interface (`flags` 0), or only active ones. */
  async listAll(flags = 0): Promise<InterfaceHandle[]> {
    const r = await this.#rpc.call(P.CONNECT_LIST_ALL_INTERFACES, (w) => w.int(1).uint(flags));
    const ifaces = r.array(readInterface, INTERFACE_LIST_MAX, 8);
    r.uint();
    return ifaces;
  }

  /** `INTERFACE_GET_XML_DESC`: an interface's description (`<interface type='bridge' name=...>`). */
  async getXmlDesc(iface: InterfaceHandle, flags = 0): Promise<string> {
    const r = await this.#rpc.call(P.INTERFACE_GET_XML_DESC, (w) => {
      writeInterface(w, iface);
      w.uint(flags);
    });
    return r.string(STRING_MAX);
  }

  /** `INTERFACE_DEFINE_XML`: defines an interface (drivers that manage interfaces, e.g. the test driver). */
  async defineXml(xml: string): Promise<InterfaceHandle> {
    return readInterface(
      await this.#rpc.call(P.INTERFACE_DEFINE_XML, (w) => w.string(xml, STRING_MAX).uint(0)),
    );
  }

  /** `INTERFACE_UNDEFINE`: removes an interface's definition. */
  async undefine(iface: InterfaceHandle): Promise<void> {
    await this.#rpc.call(P.INTERFACE_UNDEFINE, (w) => writeInterface(w, iface));
  }
}
