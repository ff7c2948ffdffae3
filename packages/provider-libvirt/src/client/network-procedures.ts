import { RemoteProcedure as P } from '../rpc/procedures.js';
import { STRING_MAX } from '../rpc/protocol.js';
import { type NetworkHandle, readNamedUuid, writeNamedUuid } from './handles.js';
import type { RpcCaller } from './rpc-caller.js';

/** Network procedures of the remote program, one method per procedure. */
export class NetworkProcedures {
  readonly #rpc: RpcCaller;

  constructor(rpc: RpcCaller) {
    this.#rpc = rpc;
  }

  /** `NETWORK_DEFINE_XML`: defines a persistent network. */
  async defineXml(xml: string): Promise<NetworkHandle> {
    return readNamedUuid(await this.#rpc.call(P.NETWORK_DEFINE_XML, (w) => w.string(xml, STRING_MAX)));
  }

  /** `NETWORK_CREATE_XML`: creates and starts a transient network. */
  async createXml(xml: string): Promise<NetworkHandle> {
    return readNamedUuid(await this.#rpc.call(P.NETWORK_CREATE_XML, (w) => w.string(xml, STRING_MAX)));
  }

  /** `NETWORK_CREATE`: starts a defined network. */
  async create(net: NetworkHandle): Promise<void> {
    await this.#rpc.call(P.NETWORK_CREATE, (w) => writeNamedUuid(w, net));
  }

  /** `NETWORK_DESTROY`: stops a network. */
  async destroy(net: NetworkHandle): Promise<void> {
    await this.#rpc.call(P.NETWORK_DESTROY, (w) => writeNamedUuid(w, net));
  }

  /** `NETWORK_UNDEFINE`: removes a network's persistent definition. */
  async undefine(net: NetworkHandle): Promise<void> {
    await this.#rpc.call(P.NETWORK_UNDEFINE, (w) => writeNamedUuid(w, net));
  }

  /** `NETWORK_LOOKUP_BY_NAME`; `NOT_FOUND` when there is none. */
  async lookupByName(name: string): Promise<NetworkHandle> {
    return readNamedUuid(await this.#rpc.call(P.NETWORK_LOOKUP_BY_NAME, (w) => w.string(name, STRING_MAX)));
  }

  /** `NETWORK_GET_XML_DESC`. */
  async getXmlDesc(net: NetworkHandle, flags = 0): Promise<string> {
    const r = await this.#rpc.call(P.NETWORK_GET_XML_DESC, (w) => {
      writeNamedUuid(w, net);
      w.uint(flags);
    });
    return r.string(STRING_MAX);
  }

  /** `NETWORK_IS_ACTIVE`. */
  async isActive(net: NetworkHandle): Promise<boolean> {
    return (await this.#rpc.call(P.NETWORK_IS_ACTIVE, (w) => writeNamedUuid(w, net))).int() !== 0;
  }

  /** `CONNECT_LIST_ALL_NETWORKS`. */
  async listAll(flags = 0): Promise<NetworkHandle[]> {
    const r = await this.#rpc.call(P.CONNECT_LIST_ALL_NETWORKS, (w) => w.int(1).uint(flags));
    const nets = r.array(readNamedUuid, 16384, 20);
    r.uint();
    return nets;
  }
}
