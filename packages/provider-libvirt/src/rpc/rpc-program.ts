import { procedureName } from './procedures.js';
import { QEMU_PROGRAM, QEMU_PROTOCOL_VERSION, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION } from './protocol.js';
import { qemuProcedureName } from './qemu-procedures.js';

/** One RPC program libvirtd serves on a connection: its number, version and procedure names. */
export interface RpcProgram {
  /** The program number of the packet header. */
  readonly id: number;
  /** The program's protocol version. */
  readonly version: number;
  /** A procedure's name, for messages (`DOMAIN_LOOKUP_BY_NAME`, `QEMU_DOMAIN_AGENT_COMMAND`). */
  procedureName(procedure: number): string;
}

/** libvirt's public API (`remote_protocol.x`): every call but the QEMU-specific ones. */
export const REMOTE_RPC_PROGRAM: RpcProgram = Object.freeze({
  id: REMOTE_PROGRAM,
  version: REMOTE_PROTOCOL_VERSION,
  procedureName,
});

/** The QEMU driver's own program (`qemu_protocol.x`): monitor and guest agent commands. */
export const QEMU_RPC_PROGRAM: RpcProgram = Object.freeze({
  id: QEMU_PROGRAM,
  version: QEMU_PROTOCOL_VERSION,
  procedureName: qemuProcedureName,
});
