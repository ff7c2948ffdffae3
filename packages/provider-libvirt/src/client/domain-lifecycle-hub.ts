import { RemoteProcedure as P } from '../rpc/procedures.js';
import type { RpcConnection } from '../rpc/rpc-connection.js';
import { XdrReader } from '../rpc/xdr/xdr-reader.js';
import { XdrWriter } from '../rpc/xdr/xdr-writer.js';
import { DomainEventId, type DomainLifecycleListener } from './domain-events.js';
import { readDomain } from './handles.js';

/**
 * The client's domain lifecycle listeners and the one daemon callback that feeds them
 * (`CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY`). The daemon forgets callbacks with the
 * connection, so the registration is renewed on the next one; it is dropped when the last
 * listener leaves.
 */
export class DomainLifecycleHub {
  readonly #connection: () => Promise<RpcConnection>;
  readonly #listeners = new Set<DomainLifecycleListener>();
  /** The daemon's id of our callback, and the connection it was registered on. */
  #callbackId: number | undefined;
  #conn: RpcConnection | undefined;
  #registering: Promise<void> | undefined;

  /** `connection` gives the live connection, opening one if needed. */
  constructor(connection: () => Promise<RpcConnection>) {
    this.#connection = connection;
  }

  /** Whether anyone listens, so that a new connection needs the callback. */
  get wanted(): boolean {
    return this.#listeners.size > 0;
  }

  /** Adds a listener and makes sure the callback is registered; returns a function that removes it. */
  async listen(listener: DomainLifecycleListener): Promise<() => Promise<void>> {
    this.#listeners.add(listener);
    try {
      await this.#ensure();
    } catch (error) {
      this.#listeners.delete(listener);
      throw error;
    }
    return async () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return;
      await this.#deregister();
    };
  }

  /** Registers the callback on `conn` (a new connection, or the live one). */
  async register(conn: RpcConnection, signal?: AbortSignal): Promise<void> {
    const args = new XdrWriter().int(DomainEventId.LIFECYCLE).bool(false).bytes();
    const r = new XdrReader(await conn.call(P.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, args, signal));
    this.#callbackId = r.int();
    this.#conn = conn;
    // The last listener left while this was in flight.
    if (this.#listeners.size === 0) await this.#deregister();
  }

  /** Forgets the registration when its connection closes (the daemon forgot it too). */
  connectionClosed(conn: RpcConnection): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    this.#callbackId = undefined;
  }

  /** Hands a lifecycle event of our callback to every listener; other events are ignored. */
  onEvent(procedure: number, payload: Uint8Array): void {
    if (procedure !== P.DOMAIN_EVENT_CALLBACK_LIFECYCLE) return;
    try {
      const r = new XdrReader(payload);
      const callbackId = r.int();
      if (callbackId !== this.#callbackId) return;
      const event = { domain: readDomain(r), event: r.int(), detail: r.int() };
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch {
          // A listener's failure must not break the connection.
        }
      }
    } catch {
      // An undecodable event is dropped.
    }
  }

  /** Makes sure the live connection carries our callback; concurrent callers share one registration. */
  async #ensure(): Promise<void> {
    while (this.#listeners.size > 0) {
      const conn = await this.#connection();
      if (this.#conn === conn && !conn.closed) return;
      this.#registering ??= this.register(conn).finally(() => {
        this.#registering = undefined;
      });
      await this.#registering;
    }
  }

  async #deregister(): Promise<void> {
    const id = this.#callbackId;
    const conn = this.#conn;
    this.#callbackId = undefined;
    this.#conn = undefined;
    if (id === undefined || !conn || conn.closed) return;
    const args = new XdrWriter().int(id).bytes();
    await conn.call(P.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, args).catch(() => {});
  }
}
