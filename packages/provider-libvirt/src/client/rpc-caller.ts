import type { RpcConnection } from '../rpc/rpc-connection.js';
import type { RpcProgram } from '../rpc/rpc-program.js';
import type { XdrReader } from '../rpc/xdr/xdr-reader.js';
import type { XdrWriter } from '../rpc/xdr/xdr-writer.js';

/**
 * What the procedure groups need from the client: encode the arguments, call, hand back a reader
 * over the reply. Kept structural so procedure groups can be tested with a fake.
 */
export interface RpcCaller {
  /**
   * Calls `procedure` of `program` (default: the remote program) with the arguments `write`
   * encodes; resolves with a reader over the reply.
   */
  call(
    procedure: number,
    write?: (w: XdrWriter) => void,
    signal?: AbortSignal,
    program?: RpcProgram,
  ): Promise<XdrReader>;
  /**
   * Runs a stream transfer (an upload, or a download's call) of `procedure` on the live
   * connection (connecting if needed). When that connection is lost before the transfer ends, it
   * fails with the `retryable` error marked `details.interrupted` (never repeated: the caller
   * knows whether its data can be sent again).
   */
  stream<T>(procedure: number, transfer: (conn: RpcConnection) => Promise<T>): Promise<T>;
}
