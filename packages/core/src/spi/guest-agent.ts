import type { LoginCredentials } from '../model/login-credentials.js';

/** Options of one guest agent call. */
export interface GuestAgentCallOptions {
  /** Ends the wait for the agent's answer with `ABORTED`. */
  readonly signal?: AbortSignal;
}

/** A program the agent starts in the guest (as root, without a shell unless the path is one). */
export interface GuestSpawnRequest {
  /** Absolute path of the program in the guest (e.g. `/bin/sh`). */
  readonly path: string;
  /** Its arguments, without the program itself. */
  readonly args: readonly string[];
  /** Extra environment entries, `NAME=value`. */
  readonly env?: readonly string[];
  /**
   * Whether the agent keeps the program's stdout and stderr and hands them over with its exited
   * status ({@link GuestProcessStatus.stdout}); only for an agent that has
   * {@link GuestAgent.captureOutputBytes}, and only for programs that print at most that much.
   */
  readonly captureOutput?: boolean;
}

/** Where a process started by {@link GuestAgent.spawn} stands. */
export interface GuestProcessStatus {
  /** Whether it has ended. */
  readonly exited: boolean;
  /** Its exit code, once it ended normally. */
  readonly exitCode?: number;
  /** The signal that ended it, when one did. */
  readonly signal?: number;
  /** Its standard output, once exited, when it was spawned with `captureOutput`. */
  readonly stdout?: Uint8Array;
  /** Its standard error, once exited, when it was spawned with `captureOutput`. */
  readonly stderr?: Uint8Array;
  /** Whether the agent dropped some of the captured output (over its own limit). */
  readonly outputTruncated?: boolean;
}

/** Bytes read from a guest file. */
export interface GuestFileChunk {
  /** The bytes (possibly empty). */
  readonly data: Uint8Array;
  /** Whether the end of the file was reached. */
  readonly eof: boolean;
}

/** One address of a guest interface. */
export interface GuestInterfaceAddress {
  /** `ipv4` or `ipv6`. */
  readonly family: 'ipv4' | 'ipv6';
  /** The address, without prefix. */
  readonly address: string;
  /** The prefix length. */
  readonly prefix: number;
}

/** A network interface as the guest itself reports it. */
export interface GuestInterface {
  /** The guest's name for it (`eth0`, `enp1s0`). */
  readonly name: string;
  /** Its MAC address, lower case, when it has one. */
  readonly mac?: string;
  /** Its addresses. */
  readonly addresses: readonly GuestInterfaceAddress[];
}

/**
 * An agent inside one running node (the QEMU guest agent over libvirt, Guest Control of the
 * VirtualBox Guest Additions): the few primitives that differ between hypervisors. Core writes
 * commands, streaming output, timeouts, users, file copies and checksums once on top of them.
 *
 * Rules: every call throws {@link VmkitError}s: `UNSUPPORTED` (retryable) while no agent answers
 * (not installed, not started yet), `NOT_FOUND` for an unknown process or file handle, `PROVIDER`
 * when the agent refuses (the message carries the agent's reason), `ABORTED` when the signal fires.
 */
export interface GuestAgent {
  /** The biggest chunk {@link GuestAgent.readFile} returns and {@link GuestAgent.writeFile} accepts. */
  readonly maxChunkBytes: number;
  /**
   * Present when {@link GuestAgent.spawn} can capture a program's output
   * ({@link GuestSpawnRequest.captureOutput}): the most bytes of stdout and stderr together one
   * exited status carries back whole. Core uses it for short scripts whose output it bounds in the
   * guest, saving the output files' round trips.
   */
  readonly captureOutputBytes?: number;
  /** Answers when the agent is up; throws `UNSUPPORTED` (retryable) when none answers. */
  ping(options?: GuestAgentCallOptions): Promise<void>;
  /**
   * Starts a program as root with stdin on `/dev/null` and its output on `/dev/null`, or kept when
   * `captureOutput` asks (see {@link GuestAgent.captureOutputBytes}); returns its pid.
   */
  spawn(request: GuestSpawnRequest, options?: GuestAgentCallOptions): Promise<number>;
  /** Where a spawned process stands; once reported exited it is forgotten by the agent. */
  processStatus(pid: number, options?: GuestAgentCallOptions): Promise<GuestProcessStatus>;
  /** Opens a guest file: `r` to read, `w` to create or truncate, `a` to append. */
  openFile(path: string, mode: 'r' | 'w' | 'a', options?: GuestAgentCallOptions): Promise<number>;
  /** Reads up to `count` (≤ {@link GuestAgent.maxChunkBytes}) bytes from the current position. */
  readFile(handle: number, count: number, options?: GuestAgentCallOptions): Promise<GuestFileChunk>;
  /** Writes all of `data` (≤ {@link GuestAgent.maxChunkBytes}) at the current position. */
  writeFile(handle: number, data: Uint8Array, options?: GuestAgentCallOptions): Promise<void>;
  /** Closes a handle. */
  closeFile(handle: number, options?: GuestAgentCallOptions): Promise<void>;
  /** The guest's interfaces and addresses, as the guest reports them. */
  networkInterfaces(options?: GuestAgentCallOptions): Promise<readonly GuestInterface[]>;
  /** Releases what the session holds (a VirtualBox guest session); idempotent. */
  close?(): Promise<void>;
}

/** What core hands a provider to open an agent session. */
export interface GuestAgentAccess {
  /**
   * The node's stored login (see `getNodeCredentials`), for agents that authenticate in the guest
   * (VirtualBox Guest Control needs a user and password); the QEMU agent ignores it.
   */
  readonly credentials?: LoginCredentials;
  /** Ends the opening with `ABORTED`. */
  readonly signal?: AbortSignal;
}

/**
 * The optional part of the provider SPI that reaches inside running nodes. A provider that has it
 * says `guestAgent: true` in its capabilities; core refuses agent work (`UNSUPPORTED`) otherwise.
 */
export interface ProviderGuestAccess {
  /**
   * An agent session for the node `id`: `NOT_FOUND` when the node is unknown, `CONFLICT` when it is
   * not running. It does not wait for the agent: its calls fail `UNSUPPORTED` until one answers.
   */
  guestAgent?(id: string, access: GuestAgentAccess): Promise<GuestAgent>;
}
