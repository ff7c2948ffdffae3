import type { RpcConnection } from '../rpc/rpc-connection.js';
import type { XdrReader } from '../rpc/xdr/xdr-reader.js';
import type { XdrWriter } from '../rpc/xdr/xdr-writer.js';

/**
 * What the procedure groups need from the client: encode the arguments, call, hand back a reader
 * over the reply. Kept structural so procedure groups can be tested with a fake.
 */
export interface RpcCaller {
  /** Calls `procedure` with the arguments `write` encodes; resolves with a reader over the reply. */
  call(procedure: number, write?: (w: XdrWriter) => void, signal?: AbortSignal): Promise<XdrReader>;
  /** The live connection (connecting if needed), for stream transfers. */
  connection(): Promise<RpcConnection>;
}
