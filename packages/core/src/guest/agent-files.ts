import type { ScriptInput } from '../model/guest-exec.js';
import type { GuestAgent } from '../spi/guest-agent.js';
import { type CopyDigest, CopyHasher } from './copy-steps.js';

/** Bytes from a string (UTF-8), bytes, a stream or any async iterable, as a stream of chunks. */
export async function* inputChunks(input: ScriptInput): AsyncGenerator<Uint8Array> {
  if (typeof input === 'string') yield Buffer.from(input, 'utf8');
  else if (input instanceof Uint8Array) yield input;
  else
    for await (const chunk of input as AsyncIterable<Uint8Array | string>)
      yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

/** The chunks of `source` cut to at most `max` bytes each (views, no copies). */
export async function* boundedChunks(
  source: AsyncIterable<Uint8Array>,
  max: number,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source)
    for (let at = 0; at < chunk.byteLength; at += max)
      yield chunk.subarray(at, Math.min(at + max, chunk.byteLength));
}

/** What was written or read: its size and SHA-256. */
/**
 * Writes `source` into the guest file `path` (created or truncated) in chunks of at most the
 * agent's `maxChunkBytes`, hashing as it goes; one chunk in memory at a time.
 */
export async function writeGuestFile(
  agent: GuestAgent,
  path: string,
  source: AsyncIterable<Uint8Array>,
  options: {
    readonly signal?: AbortSignal;
    readonly onBytes?: (bytes: number) => void;
    /** Turns the error of an `openFile` that failed into the one to throw. */
    readonly onOpenError?: (error: unknown) => Promise<unknown>;
  } = {},
): Promise<CopyDigest> {
  const call = options.signal ? { signal: options.signal } : {};
  const hash = new CopyHasher();
  const handle = await agent.openFile(path, 'w', call).catch(async (error: unknown) => {
    throw options.onOpenError ? await options.onOpenError(error) : error;
  });
  try {
    for await (const chunk of boundedChunks(source, agent.maxChunkBytes)) {
      if (chunk.byteLength === 0) continue;
      await agent.writeFile(handle, chunk, call);
      hash.update(chunk);
      options.onBytes?.(hash.bytes);
    }
  } finally {
    await agent.closeFile(handle).catch(() => undefined);
  }
  return hash.digest();
}

/**
 * Reads an open guest file from where it stands to its current end (or until `enough()` says so),
 * chunk by chunk, into `onChunk`; returns the bytes read. A file that grows can be read on later.
 */
export async function readToEnd(
  agent: GuestAgent,
  handle: number,
  onChunk: (chunk: Uint8Array) => void | Promise<void>,
  options: { readonly signal?: AbortSignal | undefined; readonly enough?: () => boolean } = {},
): Promise<number> {
  const call = options.signal ? { signal: options.signal } : {};
  let bytes = 0;
  for (;;) {
    const chunk = await agent.readFile(handle, agent.maxChunkBytes, call);
    if (chunk.data.byteLength > 0) {
      bytes += chunk.data.byteLength;
      await onChunk(chunk.data);
    }
    if (chunk.eof || chunk.data.byteLength === 0 || options.enough?.()) return bytes;
  }
}
