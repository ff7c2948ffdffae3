import type { VmkitError } from '@vmkit/core/spi';
import type { Packet } from './packet.js';

/** Receives the STREAM packets of one call, or the error that ended the connection. */
export type StreamPacketHandler = (event: Packet | VmkitError) => void;

/** Options of an `RpcConnection`. */
export interface RpcConnectionOptions {
  /** Events (MESSAGE packets of the remote program): procedure and payload. */
  readonly onEvent?: (procedure: number, payload: Uint8Array) => void;
  /** Called once when the connection ends, with the reason unless it was closed on purpose. */
  readonly onClose?: (error?: VmkitError) => void;
  /** Ping the daemon after this much silence (default 5000 ms; 0 disables). */
  readonly keepaliveIntervalMs?: number;
  /** Declare the daemon dead after this many unanswered intervals (default 5). */
  readonly keepaliveCount?: number;
  /** Unread bytes one download may hold before the socket stops being read (default 32 MiB; see `ReadFlow`). */
  readonly streamBacklogMaxBytes?: number;
}
