import type { Writable } from 'node:stream';
import type { CopyResult, NodeScript, RunScriptOptions, ScriptResult } from '../model/guest-exec.js';
import type { LoginCredentials } from '../model/login-credentials.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { OperationOptions } from '../util/progress.js';

/** Options of {@link GuestTransport.copyIn}. */
export interface TransportCopyInOptions extends OperationOptions {
  /** File mode in the guest. */
  readonly mode: number;
  /** Owner in the guest, `user` or `user:group`. */
  readonly owner?: string;
}

/**
 * One way into a running node (its guest agent, or SSH), as core's compute service uses it. Each
 * transport runs scripts with `user`, `env`, `cwd`, `stdin`, `timeoutMs`, `onOutput` and
 * `maxOutputBytes` as {@link RunScriptOptions} says, and copies files through a temporary name
 * renamed into place once its SHA-256 matched, so a failed copy leaves nothing at the path.
 */
export interface GuestTransport {
  /** Which transport this is. */
  readonly kind: 'agent' | 'ssh';
  /** Runs a script; a non-zero exit is a result. `TIMEOUT` / `ABORTED` kill it in the guest. */
  run(script: NodeScript, options: RunScriptOptions): Promise<ScriptResult>;
  /** Copies `source` to the absolute `guestPath`. */
  copyIn(
    source: AsyncIterable<Uint8Array>,
    guestPath: string,
    options: TransportCopyInOptions,
  ): Promise<CopyResult>;
  /** Copies the absolute `guestPath` into `sink` (left open). */
  copyOut(guestPath: string, sink: Writable, options: OperationOptions): Promise<CopyResult>;
  /** Releases the connection or session; idempotent. */
  close(): Promise<void>;
}

/**
 * Opens SSH to a running node with the login vmkit stored for it (its forwarded port 22 or a
 * reachable address, host key pinned); the compute service calls it for `transport: 'ssh'`, and
 * `close` (when it keeps connections between calls) when it closes.
 */
export type SshTransportFactory = ((
  node: NodeMetadata,
  options: { readonly signal?: AbortSignal },
) => Promise<GuestTransport>) & { close?: () => void };

/** The logins vmkit stored for nodes (the group key pair it made), as the compute service reads them. */
export interface NodeCredentialSource {
  /** The node's login with its private key, or `undefined` when vmkit stored none for it. */
  forNode(node: NodeMetadata): Promise<LoginCredentials | undefined>;
}
