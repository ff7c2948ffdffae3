import { Lifecycle, raceAbort, retryRetryable, VmkitError } from '@vmkit/core/spi';
import { connectionError } from '../errors/libvirt-error.js';
import { RemoteProcedure as P } from '../rpc/procedures.js';
import { AuthType, DriverFeature, STRING_MAX } from '../rpc/protocol.js';
import { RpcConnection } from '../rpc/rpc-connection.js';
import { REMOTE_RPC_PROGRAM, type RpcProgram } from '../rpc/rpc-program.js';
import { XdrReader } from '../rpc/xdr/xdr-reader.js';
import { XdrWriter } from '../rpc/xdr/xdr-writer.js';
import { type LibvirtTarget, parseLibvirtUri } from '../transport/libvirt-uri.js';
import { openTransport } from '../transport/open-transport.js';
import type { LibvirtTlsOptions } from '../transport/tls-credentials.js';
import { BlockJobProcedures } from './block-job-procedures.js';
import type { DomainLifecycleListener } from './domain-events.js';
import { DomainLifecycleHub } from './domain-lifecycle-hub.js';
import { DomainProcedures } from './domain-procedures.js';
import { InterfaceProcedures } from './interface-procedures.js';
import { type ResolvedLibvirtClientOptions, resolveLibvirtClientOptions } from './libvirt-client-options.js';
import { NetworkProcedures } from './network-procedures.js';
import { QemuProcedures } from './qemu-procedures-group.js';
import { type LibvirtReconnectOptions, openWithBackoff } from './reconnect-policy.js';
import { interruptedCall, retrySafe } from './retry-safety.js';
import type { RpcCaller } from './rpc-caller.js';
import { SnapshotProcedures } from './snapshot-procedures.js';
import { StorageProcedures } from './storage-procedures.js';

/** Options of {@link LibvirtClient.connect}. */
export interface LibvirtClientOptions {
  /**
   * Connection URI: `qemu:///system`, `test+unix:///default`, `qemu+tls://host/system` (also
   * `qemu://host/system`), `qemu+tcp://host/system`, `qemu+ssh://user@host/system`.
   */
  readonly uri: string;
  /** Open the connection read-only (`VIR_CONNECT_RO`). */
  readonly readOnly?: boolean;
  /** Give up opening after this long: connect, authentication and `CONNECT_OPEN` together (ms, default {@link DEFAULT_CONNECT_TIMEOUT_MS}). */
  readonly connectTimeoutMs?: number;
  /** Keepalive ping after this much silence (ms, default {@link DEFAULT_KEEPALIVE_INTERVAL_MS}; 0 disables). */
  readonly keepaliveIntervalMs?: number;
  /** Unanswered keepalive intervals before the daemon is declared dead (default {@link DEFAULT_KEEPALIVE_COUNT}). */
  readonly keepaliveCount?: number;
  /** The ssh binary for `+ssh` URIs (default `ssh`). */
  readonly sshBinary?: string;
  /**
   * The x509 files of a `+tls` URI; each one not given is searched for as libvirt does (see
   * {@link LibvirtTlsOptions}). The server's certificate must be signed by the CA certificate and
   * name the URI's host.
   */
  readonly tls?: LibvirtTlsOptions;
  /**
   * Let the URI choose programs to run: `?command=` (the local ssh program) and `?netcat=` (the
   * program run on the ssh host). Default false: such a URI is refused with `INVALID_ARGUMENT`
   * naming the parameter, since whoever wrote the URI (a config file, a record, a user) could
   * otherwise run any program as the caller. Set it only for URIs you wrote yourself; prefer
   * {@link LibvirtClientOptions.sshBinary} to choose the ssh program.
   */
  readonly allowUriPrograms?: boolean;
  /**
   * What to do when the connection is lost (default true: the default policy). `false`: calls
   * fail from then on with the error that closed it. Otherwise the client reconnects on its own,
   * at once and in the background, trying again with a pause of `initialDelayMs` (100) doubling
   * up to `maxDelayMs` (2,000) for `totalMs` (30,000) in all; calls made meanwhile wait for it
   * (within their signal). Lifecycle event listeners are registered again on the new connection.
   * Calls in flight when the connection went are sent again when they are safe to repeat (reads,
   * look-ups, removals: see `RETRY_SAFE_PROCEDURES`); the others fail with a `retryable`
   * `PROVIDER` error whose `details.interrupted` is true (it may or may not have taken effect).
   */
  readonly reconnect?: boolean | LibvirtReconnectOptions;
}

const VIR_CONNECT_RO = 1;
/** How often one call is sent in all when connections keep being lost under it. */
const MAX_REPEATS = 3;

/**
 * A pure-TypeScript client of libvirt's remote RPC protocol. Procedures are grouped by object:
 * {@link LibvirtClient.domains}, {@link LibvirtClient.storage}, {@link LibvirtClient.networks},
 * {@link LibvirtClient.qemu} (the QEMU driver's program: guest agent commands),
 * {@link LibvirtClient.snapshots}, {@link LibvirtClient.blockJobs};
 * connection-level calls are methods of the client. Calls may run concurrently. When the daemon
 * goes away the client reconnects on its own with bounded backoff (see
 * {@link LibvirtClientOptions.reconnect}); calls safe to repeat are sent again, the others fail
 * with a `retryable` `PROVIDER` error marked `interrupted`.
 */
export class LibvirtClient implements RpcCaller {
  /** The parsed target. */
  readonly target: LibvirtTarget;
  /** Domain procedures. */
  readonly domains: DomainProcedures;
  /** Storage pool and volume procedures. */
  readonly storage: StorageProcedures;
  /** Network procedures. */
  readonly networks: NetworkProcedures;
  /** Host interface procedures (bridges and NICs). */
  readonly interfaces: InterfaceProcedures;
  /** Procedures of the QEMU driver's own program (guest agent commands). */
  readonly qemu: QemuProcedures;
  /** Domain snapshot procedures. */
  readonly snapshots: SnapshotProcedures;
  /** Block copy jobs and guest file system freezes. */
  readonly blockJobs: BlockJobProcedures;
  readonly #options: ResolvedLibvirtClientOptions;
  readonly #events = new DomainLifecycleHub(() => this.connection());
  #conn: RpcConnection | undefined;
  #connecting: Promise<RpcConnection> | undefined;
  readonly #life: Lifecycle;
  #reconnects = 0;

  private constructor(options: LibvirtClientOptions) {
    this.#options = resolveLibvirtClientOptions(options);
    this.target = parseLibvirtUri(options.uri);
    this.#life = new Lifecycle(`the libvirt client for ${this.target.uri}`, { close: () => this.#release() });
    this.domains = new DomainProcedures(this);
    this.storage = new StorageProcedures(this);
    this.networks = new NetworkProcedures(this);
    this.interfaces = new InterfaceProcedures(this);
    this.qemu = new QemuProcedures(this);
    this.snapshots = new SnapshotProcedures(this);
    this.blockJobs = new BlockJobProcedures(this);
  }

  /** Connects, negotiates authentication and opens the hypervisor connection. */
  static async connect(options: LibvirtClientOptions | string): Promise<LibvirtClient> {
    const client = new LibvirtClient(typeof options === 'string' ? { uri: options } : options);
    await client.connection();
    return client;
  }

  /** The URI given. */
  get uri(): string {
    return this.target.uri;
  }

  /** Whether a live connection is open now. */
  get connected(): boolean {
    return this.#conn !== undefined && !this.#conn.closed;
  }

  /** How many times the client reconnected after losing the daemon. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /**
   * The live connection, connecting (or reconnecting, with backoff) first if needed. `signal`
   * ends the wait for a reconnect (`ABORTED`), not the reconnect, which other callers may share.
   */
  async connection(signal?: AbortSignal): Promise<RpcConnection> {
    this.#life.assertOpen();
    if (this.#conn && !this.#conn.closed) return this.#conn;
    const policy = this.#options.reconnect;
    if (this.#conn && policy === false) throw this.#conn.closeReason ?? connectionError('connection lost');
    this.#connecting ??= (
      this.#conn && policy !== false
        ? openWithBackoff(() => this.#open(), policy, `libvirt at ${this.uri}`, this.#life.signal)
        : this.#open()
    ).finally(() => {
      this.#connecting = undefined;
    });
    return raceAbort(this.#connecting, signal, `reconnecting to libvirt at ${this.uri}`);
  }

  /**
   * Calls a procedure of `program` (default: the remote program; `QEMU_RPC_PROGRAM` for the
   * QEMU driver's own calls) with the arguments `write` encodes; a reader over the reply. A call
   * whose connection is lost before the reply is sent again on the next connection when it is
   * safe to repeat (`RETRY_SAFE_PROCEDURES`), and otherwise fails with a `retryable` `PROVIDER`
   * error marked `details.interrupted`.
   */
  async call(
    procedure: number,
    write?: (w: XdrWriter) => void,
    signal?: AbortSignal,
    program: RpcProgram = REMOTE_RPC_PROGRAM,
  ): Promise<XdrReader> {
    let args: Uint8Array | undefined;
    if (write) {
      const w = new XdrWriter();
      write(w);
      args = w.bytes();
    }
    // The loss of the connection under a call that is safe to repeat (the one tried again).
    let lost: unknown;
    try {
      return await retryRetryable(
        async () => {
          lost = undefined;
          const conn = await this.connection(signal);
          try {
            return new XdrReader(await conn.call(procedure, args, signal, program));
          } catch (error) {
            // Only a loss of the connection (not an answer, not an abort) is handled here.
            if (!VmkitError.is(error) || error !== conn.closeReason || this.#life.closed) throw error;
            if (this.#options.reconnect === false || !retrySafe(program, procedure))
              throw interruptedCall(procedure, error, program);
            lost = error;
            throw error;
          }
        },
        { attempts: MAX_REPEATS, baseDelayMs: 0, retryIf: (error) => error === lost },
      );
    } catch (error) {
      if (error === lost) throw interruptedCall(procedure, error as VmkitError, program);
      throw error;
    }
  }

  /**
   * Runs a stream transfer of `procedure` on the live connection; a loss of that connection
   * before the transfer ends fails it with the `retryable` error marked `details.interrupted`
   * (never repeated: the caller knows whether its data can be sent again).
   */
  async stream<T>(procedure: number, transfer: (conn: RpcConnection) => Promise<T>): Promise<T> {
    const conn = await this.connection();
    try {
      return await transfer(conn);
    } catch (error) {
      if (!VmkitError.is(error) || error !== conn.closeReason || this.#life.closed) throw error;
      throw interruptedCall(procedure, error);
    }
  }

  /** `CONNECT_GET_VERSION`: the hypervisor's version (major * 1,000,000 + minor * 1,000 + release). */
  async getVersion(): Promise<number> {
    return (await this.call(P.CONNECT_GET_VERSION)).uhyperNumber();
  }

  /** `CONNECT_GET_LIB_VERSION`: libvirt's version on the daemon side. */
  async getLibVersion(): Promise<number> {
    return (await this.call(P.CONNECT_GET_LIB_VERSION)).uhyperNumber();
  }

  /** `CONNECT_GET_CAPABILITIES`: the capabilities XML. */
  async getCapabilities(): Promise<string> {
    return (await this.call(P.CONNECT_GET_CAPABILITIES)).string(STRING_MAX);
  }

  /** `CONNECT_GET_HOSTNAME`. */
  async getHostname(): Promise<string> {
    return (await this.call(P.CONNECT_GET_HOSTNAME)).string(STRING_MAX);
  }

  /** `CONNECT_GET_SYSINFO`: the host's SMBIOS data as libvirt's sysinfo XML (fails where the host has none). */
  async getSysinfo(): Promise<string> {
    return (await this.call(P.CONNECT_GET_SYSINFO, (w) => w.uint(0))).string(STRING_MAX);
  }

  /** `CONNECT_GET_URI`: the URI the daemon opened. */
  async getUri(): Promise<string> {
    return (await this.call(P.CONNECT_GET_URI)).string(STRING_MAX);
  }

  /** `CONNECT_GET_TYPE`: the driver's name (`QEMU`, `TEST`). */
  async getType(): Promise<string> {
    return (await this.call(P.CONNECT_GET_TYPE)).string(STRING_MAX);
  }

  /** `CONNECT_SUPPORTS_FEATURE`. */
  async supportsFeature(feature: number): Promise<boolean> {
    return (await this.call(P.CONNECT_SUPPORTS_FEATURE, (w) => w.int(feature))).int() !== 0;
  }

  /**
   * Listens to domain lifecycle events (`CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY`); the
   * registration survives reconnects. Returns a function that stops listening.
   */
  onDomainLifecycle(listener: DomainLifecycleListener): Promise<() => Promise<void>> {
    return this.#events.listen(listener);
  }

  /**
   * Closes the connection (`CONNECT_CLOSE`); idempotent. Later calls, and calls waiting for a
   * connection being opened now, fail with the closed error (`CONFLICT`, reason `closed`).
   */
  close(): Promise<void> {
    return this.#life.close();
  }

  async #release(): Promise<void> {
    // A connection being opened now is closed by #open itself when it sees the client closed.
    await this.#connecting?.catch(() => {});
    const conn = this.#conn;
    if (conn && !conn.closed) {
      await conn.call(P.CONNECT_CLOSE).catch(() => {});
      conn.close();
    }
  }

  /** Same as {@link LibvirtClient.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #open(): Promise<RpcConnection> {
    const reconnecting = this.#conn !== undefined;
    const timeoutMs = this.#options.connectTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const socket = await openTransport(this.target, {
      connectTimeoutMs: timeoutMs,
      ...(this.#options.sshBinary === undefined ? {} : { sshBinary: this.#options.sshBinary }),
      ...(this.#options.tls === undefined ? {} : { tls: this.#options.tls }),
    });
    // The handshake shares the deadline: a peer that accepts but never answers fails in time.
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), Math.max(0, deadline - Date.now()));
    const conn: RpcConnection = new RpcConnection(socket, {
      onEvent: (proc, payload) => this.#events.onEvent(proc, payload),
      onClose: (lost) => {
        this.#events.connectionClosed(conn);
        // Lost, not closed on purpose: come back on our own, so event listeners hear again.
        if (lost && conn === this.#conn && !this.#life.closed && this.#options.reconnect !== false)
          void this.connection().catch(() => {});
      },
      keepaliveIntervalMs: this.#options.keepaliveIntervalMs,
      keepaliveCount: this.#options.keepaliveCount,
    });
    const signal = timer.signal;
    try {
      const auth = new XdrReader(await conn.call(P.AUTH_LIST, undefined, signal)).array((r) => r.int(), 20);
      if (auth.length > 0 && !auth.includes(AuthType.NONE)) {
        const names = auth.map((a) =>
          a === AuthType.SASL ? 'sasl' : a === AuthType.POLKIT ? 'polkit' : `#${a}`,
        );
        throw new VmkitError(
          'UNSUPPORTED',
          `libvirt at ${this.uri} requires ${names.join(' or ')} authentication, which this client does not support yet ` +
            `(connect as a user the daemon lets in without authentication, e.g. root on the unix socket)`,
          { details: { authTypes: auth } },
        );
      }
      const open = new XdrWriter()
        .optional(this.target.remoteName, (w, v) => w.string(v, STRING_MAX))
        .uint(this.#options.readOnly ? VIR_CONNECT_RO : 0);
      await conn.call(P.CONNECT_OPEN, open.bytes(), signal);
      const feature = new XdrWriter().int(DriverFeature.PROGRAM_KEEPALIVE).bytes();
      await conn.call(P.CONNECT_SUPPORTS_FEATURE, feature, signal);
      if (this.#events.wanted) await this.#events.register(conn, signal);
      this.#life.assertOpen();
    } catch (error) {
      conn.close();
      if (signal.aborted) {
        throw new VmkitError(
          'TIMEOUT',
          `cannot open libvirt at ${this.uri}: no answer to the handshake within ${timeoutMs} ms`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      clearTimeout(timeout);
    }
    if (reconnecting) this.#reconnects++;
    this.#conn = conn;
    return conn;
  }
}
