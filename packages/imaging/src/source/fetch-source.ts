import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { downloadFile, invalidArgument, VmkitError } from '@vmkit/core/spi';

/** Where a master's source is: the `path` / `url` / `sha256` / `maxBytes` fields of a `disk`, `iso` or `bootIso` source. */
export interface SourceLocation {
  /** A local file (a relative path is resolved against the working directory). */
  readonly path?: string;
  /** A `file:`, `http:` or `https:` URL. */
  readonly url?: string;
  /** The file's expected SHA-256 (hex, any case), checked before anything reads it. */
  readonly sha256?: string;
  /** At most this many bytes are downloaded (core's download default otherwise). */
  readonly maxBytes?: number;
}

/** Options of {@link fetchSourceFile}. */
export interface FetchSourceOptions {
  /** The field named in errors (default `source`): `source.path`, `source.url`, `source.sha256`... */
  readonly field?: string;
  /**
   * The file an http(s) download is written to, a name of vmkit's own (a file left there by an
   * earlier try is replaced; the folder must exist). Default: a new private folder under the
   * system's temporary folder, removed by `dispose()`.
   */
  readonly downloadTo?: string;
  readonly signal?: AbortSignal;
  /** Bytes downloaded so far (http and https only). */
  readonly onBytes?: (bytes: number) => void;
}

/** A source as a local file. */
export interface SourceFile {
  /** The absolute path of the file. */
  readonly path: string;
  /** Whether vmkit made the file (a download), and so removes it; a user's file is never removed. */
  readonly owned: boolean;
  /** Removes what fetching made (the download and its private folder); nothing for a user's file. */
  dispose(): Promise<void>;
}

const kept = async () => {};

/**
 * Makes a master's source a local file, the same way on every hypervisor: a `path` or `file:` URL
 * is used where it is, as an absolute path (so no tool later reads a `:` in it as a protocol or a
 * leading `-` as an option); an `http:` or `https:` URL is downloaded with core's `downloadFile`
 * (no https-to-http redirect, at most `maxBytes`, no partial file left). The file must exist and
 * be a regular file; its SHA-256 is checked when `sha256` is given (`CORRUPT`, and a download is
 * removed). On any failure nothing fetching made is left behind.
 */
export async function fetchSourceFile(
  source: SourceLocation,
  options: FetchSourceOptions = {},
): Promise<SourceFile> {
  const field = options.field ?? 'source';
  const file = await locate(source, field, options);
  try {
    const info = await stat(file.path).catch(() => undefined);
    if (!info?.isFile()) throw invalidArgument(`${field}.path`, `no file at ${file.path}`);
    if (source.sha256) await verifySha256(file.path, source.sha256, field, options.signal);
    return file;
  } catch (error) {
    await file.dispose();
    throw error;
  }
}

async function locate(
  source: SourceLocation,
  field: string,
  options: FetchSourceOptions,
): Promise<SourceFile> {
  if (source.path) return { path: resolve(source.path), owned: false, dispose: kept };
  if (!source.url) throw invalidArgument(field, 'needs a path or a url');
  let url: URL;
  try {
    url = new URL(source.url);
  } catch (error) {
    throw invalidArgument(`${field}.url`, 'must be a file:, http: or https: URL', {}, { cause: error });
  }
  if (url.protocol === 'file:') return { path: resolve(fileURLToPath(url)), owned: false, dispose: kept };
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalidArgument(`${field}.url`, `must be a file:, http: or https: URL, not ${url.protocol}`);
  const dir = options.downloadTo ? undefined : await mkdtemp(join(tmpdir(), 'vmkit-src-'));
  const path = options.downloadTo ? resolve(options.downloadTo) : join(dir as string, 'download');
  const dispose = () => rm(dir ?? path, { recursive: true, force: true });
  if (!dir) await rm(path, { force: true });
  try {
    // Streamed to the file: an image never sits in memory whole.
    await downloadFile(url, path, {
      field: `${field}.url`,
      maxBytesField: `${field}.maxBytes`,
      ...(source.maxBytes === undefined ? {} : { maxBytes: source.maxBytes }),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onBytes ? { onBytes: options.onBytes } : {}),
    });
  } catch (error) {
    // downloadFile removed its partial file; a file that was there before is not ours.
    if (dir) await dispose();
    throw error;
  }
  return { path, owned: true, dispose };
}

/**
 * Throws `CORRUPT` naming `<field>.sha256` unless the file's SHA-256 is `expected` (hex, any
 * case); the file is read once, as a stream, and the read stops on `signal`.
 */
export async function verifySha256(
  path: string,
  expected: string,
  field = 'source',
  signal?: AbortSignal,
): Promise<void> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, signal ? { signal } : {});
  const actual = hash.digest('hex');
  if (actual !== expected.toLowerCase())
    throw new VmkitError('CORRUPT', `${field}.sha256: ${path} has sha256 ${actual}, expected ${expected}`, {
      details: { field: `${field}.sha256`, file: path },
    });
}
