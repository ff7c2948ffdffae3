import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore } from '@vmkit/core/blobstore';
import { invalidArgument, openDownload, redactUrl, VmkitError } from '@vmkit/core/spi';
import { copyCounted } from './hashing.js';
import type { DiskLocation } from './task-model.js';

/** A source disk as a local file. */
export interface FetchedSource {
  readonly file: string;
  readonly size: number;
  /** Known when the bytes were streamed in; for local files computed later. */
  readonly sha256?: string;
}

/** Options of {@link fetchSource}. */
export interface FetchOptions {
  readonly store: BlobStore;
  /** The task's scratch directory. */
  readonly dir: string;
  /** File name in `dir` for a download. */
  readonly name: string;
  readonly maxBytes: number;
  readonly field: string;
  readonly signal: AbortSignal;
  readonly onBytes?: (n: number) => void;
}

/** A readable description of a location, for task records (a URL without credentials or query values). */
export function describeLocation(loc: DiskLocation): string {
  if ('path' in loc) return loc.path;
  if ('url' in loc) return redactUrl(loc.url);
  return `blob:${loc.container}/${loc.name}`;
}

/** Checks a location's shape, naming `field`. */
export function validateLocation(loc: DiskLocation, field: string): void {
  const kinds = ['path', 'url', 'container'].filter((k) => k in loc);
  if (kinds.length !== 1)
    throw invalidArgument(field, 'needs exactly one of path, url or { container, name }');
  if ('url' in loc) {
    let url: URL;
    try {
      url = new URL(loc.url);
    } catch {
      throw invalidArgument(`${field}.url`, 'must be a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw invalidArgument(`${field}.url`, 'must be http: or https:');
  }
  if ('container' in loc && (typeof loc.name !== 'string' || !loc.name))
    throw invalidArgument(`${field}.name`, 'must name a blob');
}

/** Size of the source when it can be known without reading it (local file, blob, Content-Length). */
export async function sourceSize(
  loc: DiskLocation,
  store: BlobStore,
  signal: AbortSignal,
): Promise<number | undefined> {
  if ('path' in loc) return (await stat(loc.path)).size;
  if ('container' in loc) {
    const page = await store.list(loc.container, { prefix: loc.name, maxKeys: 1 });
    const item = page.items.find((i) => i.name === loc.name);
    return item?.size;
  }
  const head = await openDownload(loc.url, { field: 'url', method: 'HEAD', signal }).catch(() => undefined);
  return head?.length ? head.length : undefined;
}

/**
 * Opens a URL source under core's download rules (`openDownload`: no https-to-http redirect, at
 * most `maxBytes` whatever the server claims, errors without credentials), naming `field`.
 */
export async function openUrlSource(
  url: string,
  field: string,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Readable> {
  const download = await openDownload(url, {
    field: `${field}.url`,
    maxBytes,
    maxBytesField: 'limits.maxImageBytes',
    signal,
  });
  return download.body;
}

/**
 * Makes a source a local file: a local path is used where it is (never copied); a URL is streamed
 * and a blob copied into the task's scratch directory, hashed and counted on the way.
 */
export async function fetchSource(loc: DiskLocation, opts: FetchOptions): Promise<FetchedSource> {
  if ('path' in loc) {
    const s = await stat(loc.path).catch((error: NodeJS.ErrnoException) => {
      throw new VmkitError(
        error.code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_ARGUMENT',
        `${opts.field}.path: cannot read ${loc.path}: ${error.message}`,
        { cause: error },
      );
    });
    if (!s.isFile()) throw invalidArgument(`${opts.field}.path`, `${loc.path} is not a regular file`);
    if (s.size > opts.maxBytes)
      throw invalidArgument(
        `${opts.field}.path`,
        `the file is larger than limits.maxImageBytes (${opts.maxBytes} bytes)`,
      );
    // Absolute before qemu-img sees it: `a:b.vmdk` would read as protocol `a`, `-x` as an option.
    return { file: resolve(loc.path), size: s.size };
  }
  const file = join(opts.dir, opts.name);
  let body: Readable;
  if ('url' in loc) {
    body = await openUrlSource(loc.url, opts.field, opts.maxBytes, opts.signal);
  } else {
    const blob = await opts.store.getBlob(loc.container, loc.name, { signal: opts.signal });
    if (!blob) throw new VmkitError('NOT_FOUND', `${opts.field}: no blob ${loc.container}/${loc.name}`);
    body = blob.stream();
  }
  const copied = await copyCounted(body, file, {
    maxBytes: opts.maxBytes,
    field: opts.field,
    signal: opts.signal,
    ...(opts.onBytes ? { onBytes: opts.onBytes } : {}),
  });
  return { file, size: copied.bytes, sha256: copied.sha256 };
}
