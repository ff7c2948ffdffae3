import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { type Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { RunScriptError, scriptExitError } from '../errors/run-script-error.js';
import { invalidArgument, toVmkitError, VmkitError } from '../errors/vmkit-error.js';
import { checkCopyInOptions } from '../guest/copy-steps.js';
import type { GuestTransport } from '../guest/guest-transport.js';
import { requireRunning } from '../guest/require-running.js';
import { checkGuestPath, checkScriptRequest } from '../guest/shell-command.js';
import type {
  CopyDestination,
  CopyFromNodeOptions,
  CopyResult,
  CopySource,
  CopyToNodeOptions,
  GuestTransportKind,
  NodeScript,
  NodeScriptResult,
  RunScriptOnNodesOptions,
  RunScriptOptions,
  ScriptResult,
} from '../model/guest-exec.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import { mapSettled } from '../util/concurrency.js';
import { FILE_CHUNK_BYTES } from '../util/file-chunks.js';
import { integerOption } from '../util/integer-option.js';
import type { Logger } from '../util/logger.js';
import { emitProgress } from '../util/progress.js';
import { type GuestAccessParts, openGuestTransport, transportKind } from './guest-access.js';

/** What the guest operations of the compute service need (internal). */
export interface GuestOperationParts extends GuestAccessParts {
  readonly logger: Logger;
  /** The node as it stands now, or `undefined`. */
  readonly getNode: (id: string) => Promise<NodeMetadata | undefined>;
  /** Work that goes on after a call returned (an aborted script's kill); `close()` waits for it. */
  readonly background: (work: Promise<unknown>) => void;
}

/**
 * Opens the transport to the running node `id`, runs `fn` with it and closes it; after an abort the
 * closing (which waits for the guest process to be killed) goes on in the background.
 */
async function withTransport<T>(
  parts: GuestOperationParts,
  id: string,
  kind: GuestTransportKind,
  signal: AbortSignal | undefined,
  fn: (transport: GuestTransport, node: NodeMetadata) => Promise<T>,
): Promise<T> {
  const node = requireRunning(id, await parts.getNode(id));
  const transport = await openGuestTransport(parts, node, kind, signal);
  let aborted = false;
  try {
    return await fn(transport, node);
  } catch (error) {
    aborted = VmkitError.is(error, 'ABORTED');
    throw error;
  } finally {
    const closing = transport.close().catch((error: unknown) => {
      parts.logger.warn('could not close the guest transport', { node: node.name, error: String(error) });
    });
    if (aborted) parts.background(closing);
    else await closing;
  }
}

/** `runScriptOnNode`: checks, picks the transport, runs, reports `exec` progress. */
export async function runScriptOnNode(
  parts: GuestOperationParts,
  id: string,
  script: NodeScript,
  options: RunScriptOptions = {},
): Promise<ScriptResult> {
  checkScriptRequest(script, options);
  const kind = transportKind(options.transport);
  return withTransport(parts, id, kind, options.signal, async (transport, node) => {
    emitProgress(options.onProgress, {
      phase: 'exec',
      node: node.name,
      message: `running a script on ${node.name} (${transport.kind})`,
    });
    const result = await transport.run(script, options);
    emitProgress(options.onProgress, {
      phase: 'exec',
      node: node.name,
      fraction: 1,
      message: `script on ${node.name} exited with ${result.exitCode}`,
    });
    return result;
  });
}

/**
 * `runScriptOnNodesMatching`: the script on every node the predicate accepts, `concurrency` at a
 * time; throws {@link RunScriptError} with every result when some failed (an error or a non-zero exit).
 */
export async function runScriptOnNodesMatching(
  parts: GuestOperationParts,
  nodes: readonly NodeMetadata[],
  script: NodeScript,
  options: RunScriptOnNodesOptions = {},
): Promise<NodeScriptResult[]> {
  checkScriptRequest(script, options);
  transportKind(options.transport);
  const concurrency = integerOption('concurrency', options.concurrency, 4, { max: 64 });
  const { concurrency: _, ...each } = options;
  const settled = await mapSettled(nodes, concurrency, (node) =>
    runScriptOnNode(parts, node.id, script, each),
  );
  const results = settled.map((s, i): NodeScriptResult => {
    const node = nodes[i] as NodeMetadata;
    if (s.status === 'rejected')
      return { node, error: toVmkitError(s.reason, 'PROVIDER', `script on node ${node.name}`) };
    if (s.value.exitCode !== 0)
      return { node, result: s.value, error: scriptExitError(node.name, s.value.exitCode, s.value.stderr) };
    return { node, result: s.value };
  });
  if (results.some((r) => r.error)) throw new RunScriptError(results);
  return results;
}

/** The bytes of a copy source; a host path is opened first so a missing file is said at once. */
async function sourceChunks(source: CopySource): Promise<AsyncIterable<Uint8Array>> {
  if (typeof source === 'string') {
    const handle = await open(source, 'r').catch((error: NodeJS.ErrnoException) => {
      throw invalidArgument('source', `cannot read ${source} (${error.code ?? error.message})`, {
        path: source,
      });
    });
    return createReadStream('', { fd: handle, highWaterMark: FILE_CHUNK_BYTES });
  }
  if (source instanceof Uint8Array)
    return (async function* () {
      yield source;
    })();
  if (source !== null && typeof source === 'object' && Symbol.asyncIterator in source) return source;
  throw invalidArgument('source', 'must be a host path, bytes, a Readable or an async iterable of bytes');
}

/** `copyToNode`: checks, picks the transport, copies (through a temporary name in the guest). */
export async function copyToNode(
  parts: GuestOperationParts,
  id: string,
  source: CopySource,
  guestPath: string,
  options: CopyToNodeOptions = {},
): Promise<CopyResult> {
  checkCopyInOptions(guestPath, options);
  const kind = transportKind(options.transport);
  const chunks = await sourceChunks(source);
  try {
    return await withTransport(parts, id, kind, options.signal, (transport, node) => {
      emitProgress(options.onProgress, {
        phase: 'copy',
        node: node.name,
        message: `copying to ${node.name}:${guestPath}`,
      });
      return transport.copyIn(chunks, guestPath, {
        mode: options.mode ?? 0o644,
        ...(options.owner ? { owner: options.owner } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    });
  } finally {
    if (typeof source === 'string') (chunks as Readable).destroy();
  }
}

/**
 * `copyFromNode`: checks, picks the transport, copies into a Writable (left open) or a host path
 * (written to a temporary name beside it, renamed once the SHA-256 matched, removed otherwise).
 */
export async function copyFromNode(
  parts: GuestOperationParts,
  id: string,
  guestPath: string,
  destination: CopyDestination,
  options: CopyFromNodeOptions = {},
): Promise<CopyResult> {
  checkGuestPath('guestPath', guestPath);
  const kind = transportKind(options.transport);
  if (typeof destination !== 'string' && !(destination instanceof Writable))
    throw invalidArgument('destination', 'must be a host path or a Writable');
  const copy = (sink: Writable) =>
    withTransport(parts, id, kind, options.signal, (transport, node) => {
      emitProgress(options.onProgress, {
        phase: 'copy',
        node: node.name,
        message: `copying from ${node.name}:${guestPath}`,
      });
      return transport.copyOut(guestPath, sink, options);
    });
  if (typeof destination !== 'string') return copy(destination);
  const temp = `${destination}.vmkit-${randomBytes(6).toString('hex')}`;
  const handle = await open(temp, 'wx', 0o644).catch((error: NodeJS.ErrnoException) => {
    throw invalidArgument(
      'destination',
      `cannot write beside ${destination} (${error.code ?? error.message})`,
      {
        path: destination,
      },
    );
  });
  const file = createWriteStream('', { fd: handle });
  file.on('error', () => undefined); // reported through the copy's own failure
  try {
    const result = await copy(file);
    file.end();
    await finished(file);
    await rename(temp, destination);
    return result;
  } catch (error) {
    file.destroy();
    await rm(temp, { force: true });
    if (VmkitError.is(error)) throw error;
    throw toVmkitError(error, 'STORE', `copy to ${destination}`);
  }
}
