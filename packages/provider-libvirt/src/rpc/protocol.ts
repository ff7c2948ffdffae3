/**
 * Constants of libvirt's RPC framing (`src/rpc/virnetprotocol.x`): programs, message types and
 * statuses, and the size limits a well-behaved peer keeps to.
 */

/** The remote program: libvirt's public API. */
export const REMOTE_PROGRAM = 0x20008086;
/** Version of the remote program. */
export const REMOTE_PROTOCOL_VERSION = 1;
/** The QEMU driver's program (`qemu_protocol.x`): monitor and guest agent pass-through. */
export const QEMU_PROGRAM = 0x20008087;
/** Version of the QEMU program. */
export const QEMU_PROTOCOL_VERSION = 1;
/** The keepalive program ("keep"). */
export const KEEPALIVE_PROGRAM = 0x6b656570;
/** Version of the keepalive program. */
export const KEEPALIVE_PROTOCOL_VERSION = 1;
/** Keepalive procedures. */
export const KeepaliveProcedure = Object.freeze({ PING: 1, PONG: 2 } as const);

/** What a packet is. */
export const MessageType = Object.freeze({
  CALL: 0,
  REPLY: 1,
  MESSAGE: 2,
  STREAM: 3,
  CALL_WITH_FDS: 4,
  REPLY_WITH_FDS: 5,
  STREAM_HOLE: 6,
} as const);
/** A {@link MessageType} value. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** How a reply or stream packet ended. */
export const MessageStatus = Object.freeze({ OK: 0, ERROR: 1, CONTINUE: 2 } as const);
/** A {@link MessageStatus} value. */
export type MessageStatus = (typeof MessageStatus)[keyof typeof MessageStatus];

/** Bytes of the length word. */
export const LENGTH_WORD_SIZE = 4;
/** Bytes of the header: program, version, procedure, type, serial, status. */
export const HEADER_SIZE = 24;
/**
 * Largest packet accepted (header and payload, without the length word). libvirt 9 allows 32 MiB;
 * anything longer is refused before a byte of it is buffered.
 */
export const MESSAGE_MAX = 32 * 1024 * 1024;
/** Largest string libvirt sends (`REMOTE_STRING_MAX`). */
export const STRING_MAX = 4 * 1024 * 1024;
/** Stream data sent per packet (libvirt's own client uses the legacy payload maximum). */
export const STREAM_CHUNK_SIZE = 256 * 1024;
/** Bytes of a UUID. */
export const UUID_SIZE = 16;
/** Default TCP port of libvirtd. */
export const DEFAULT_TCP_PORT = 16509;
/** Default TLS port of libvirtd. */
export const DEFAULT_TLS_PORT = 16514;
/** Feature numbers for `CONNECT_SUPPORTS_FEATURE`. */
export const DriverFeature = Object.freeze({ PROGRAM_KEEPALIVE: 10, REMOTE_EVENT_CALLBACK: 14 } as const);
/** Authentication schemes libvirtd offers (`remote_auth_type`). */
export const AuthType = Object.freeze({ NONE: 0, SASL: 1, POLKIT: 2 } as const);
