import { encodePacket } from './packet.js';
import {
  KEEPALIVE_PROGRAM,
  KEEPALIVE_PROTOCOL_VERSION,
  KeepaliveProcedure,
  MessageStatus,
  MessageType,
} from './protocol.js';

/** What the monitor needs from its connection. */
export interface KeepaliveHooks {
  /** Whether the connection stopped reading (then silence is ours, not the daemon's). */
  paused(): boolean;
  /** Sends a keepalive packet. */
  send(packet: Uint8Array): void;
  /** The daemon was silent for `silentMs` (`count` intervals): the connection is dead. */
  dead(silentMs: number): void;
}

/** A keepalive packet of libvirt's keepalive program (`PING` or `PONG`). */
export function keepalivePacket(procedure: number): Uint8Array {
  return encodePacket({
    program: KEEPALIVE_PROGRAM,
    version: KEEPALIVE_PROTOCOL_VERSION,
    procedure,
    type: MessageType.MESSAGE,
    serial: 0,
    status: MessageStatus.OK,
  });
}

/**
 * libvirt's keepalive from the client side: after `intervalMs` of silence from the daemon it
 * pings; after `count` silent intervals it declares the daemon dead. Silence while the
 * connection is paused (not reading) is ours: it pings so the daemon keeps hearing from us, and
 * counts again from when reading resumes.
 */
export class KeepaliveMonitor {
  #lastHeard = Date.now();
  readonly #timer: NodeJS.Timeout;

  constructor(intervalMs: number, count: number, hooks: KeepaliveHooks) {
    this.#timer = setInterval(() => {
      if (hooks.paused()) {
        this.#lastHeard = Date.now();
        hooks.send(keepalivePacket(KeepaliveProcedure.PING));
        return;
      }
      const silent = Date.now() - this.#lastHeard;
      if (silent >= intervalMs * count) hooks.dead(silent);
      else if (silent >= intervalMs) hooks.send(keepalivePacket(KeepaliveProcedure.PING));
    }, intervalMs);
    this.#timer.unref();
  }

  /** Something arrived from the daemon (or reading resumed): silence counts from now. */
  heard(): void {
    this.#lastHeard = Date.now();
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
