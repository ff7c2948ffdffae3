import type { Readable, Writable } from 'node:stream';
import type { OperationOptions } from '../util/progress.js';
import type { NodeMetadata } from './node-metadata.js';

/** How vmkit reaches inside a node: its guest agent, SSH, or the agent when the node has one (`auto`). */
export type GuestTransportKind = 'agent' | 'ssh' | 'auto';

/** A script for {@link ComputeService.runScriptOnNode}: shell text run by `/bin/sh -c`, or an argv. */
export type NodeScript = string | readonly string[];

/** Standard input of a script: text (UTF-8), bytes, or a stream read in bounded memory. */
export type ScriptInput = string | Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** Options of {@link ComputeService.runScriptOnNode}. */
export interface RunScriptOptions extends OperationOptions {
  /** The guest user to run as (default `root`); `INVALID_ARGUMENT` when the guest has no such user. */
  readonly user?: string;
  /** Extra environment variables. Names follow `[A-Za-z_][A-Za-z0-9_]*`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory in the guest (absolute). */
  readonly cwd?: string;
  /** Standard input. */
  readonly stdin?: ScriptInput;
  /** Kills the process in the guest after this long and fails `TIMEOUT` with the partial output. */
  readonly timeoutMs?: number;
  /**
   * Receives output as it arrives, chunk by chunk. Must not throw. A returned promise holds
   * back further output until it settles (back-pressure: the guest's output is read no faster
   * than the listener takes it, e.g. until a slow stream drained); a rejection is ignored, and any
   * other returned value too (so `(s, chunk) => process.stdout.write(chunk)` still fits).
   */
  readonly onOutput?: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => unknown;
  /** Output kept per stream in the result (default 1 MiB); the rest is counted, not kept. */
  readonly maxOutputBytes?: number;
  /** Which way in (default `auto`). */
  readonly transport?: GuestTransportKind;
}

/** What a script did. */
export interface ScriptResult {
  /** Its exit code (128 + n when signal n ended it). */
  readonly exitCode: number;
  /** Standard output, UTF-8, up to `maxOutputBytes`. */
  readonly stdout: string;
  /** Standard error, UTF-8, up to `maxOutputBytes`. */
  readonly stderr: string;
  /** Whether some output was not kept. */
  readonly truncated: boolean;
  /** Wall time from start to exit. */
  readonly durationMs: number;
  /** The transport it went through. */
  readonly transport: 'agent' | 'ssh';
}

/** Options of {@link ComputeService.runScriptOnNodesMatching}. */
export interface RunScriptOnNodesOptions extends RunScriptOptions {
  /** Nodes worked on at once (default 4). */
  readonly concurrency?: number;
}

/** One node's part of {@link ComputeService.runScriptOnNodesMatching}. */
export interface NodeScriptResult {
  /** The node. */
  readonly node: NodeMetadata;
  /** What the script did, when it ran. */
  readonly result?: ScriptResult;
  /** Why it did not run or did not finish (including a non-zero exit), when so. */
  readonly error?: Error;
}

/** A file to copy into a node: a host path, bytes, or a stream. */
export type CopySource = string | Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** Where a copied-out file goes: a host path (created or replaced) or a stream. */
export type CopyDestination = string | Writable;

/** Options of {@link ComputeService.copyToNode}. */
export interface CopyToNodeOptions extends OperationOptions {
  /** File mode in the guest (default `0o644`). */
  readonly mode?: number;
  /** Owner in the guest, `user` or `user:group`. */
  readonly owner?: string;
  /** Which way in (default `auto`). */
  readonly transport?: GuestTransportKind;
}

/** Options of {@link ComputeService.copyFromNode}. */
export interface CopyFromNodeOptions extends OperationOptions {
  /** Which way in (default `auto`). */
  readonly transport?: GuestTransportKind;
}

/** What a copy moved. */
export interface CopyResult {
  /** Bytes copied. */
  readonly bytes: number;
  /** Their SHA-256 (hex), checked on both ends. */
  readonly sha256: string;
  /** The transport it went through. */
  readonly transport: 'agent' | 'ssh';
}

/** What {@link ComputeService.waitForNode} waits for. */
export type NodeReadiness =
  | 'agent'
  | 'ssh'
  | { readonly port: number }
  | { readonly http: string; readonly port?: number };

/** Options of {@link ComputeService.waitForNode}. */
export interface WaitForNodeOptions extends OperationOptions {
  /** What to wait for. */
  readonly until: NodeReadiness;
  /** Gives up with `TIMEOUT` after this long (default 5 minutes). */
  readonly timeoutMs?: number;
}
