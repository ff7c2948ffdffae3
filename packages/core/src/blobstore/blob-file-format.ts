import { VmkitError } from '../errors/vmkit-error.js';

/**
 * The filesystem store keeps each blob in one file: the content as is, then a JSON trailer
 * (etag, content type, metadata), then the trailer's length (u32, big-endian), then `VMKB`. One
 * file per blob keeps writes atomic (one rename) and leaves the content readable with plain tools.
 */
export const TRAILER_MAGIC = Buffer.from('VMKB', 'ascii');
/** Bytes after the trailer JSON: its length and the magic. */
export const TRAILER_TAIL = 8;

/** What the trailer records. */
export interface BlobTrailer {
  readonly etag: string;
  readonly contentType?: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Encodes the trailer block to append after the content. */
export function encodeTrailer(trailer: BlobTrailer): Buffer {
  const json = Buffer.from(JSON.stringify(trailer), 'utf8');
  const tail = Buffer.alloc(TRAILER_TAIL);
  tail.writeUInt32BE(json.byteLength, 0);
  TRAILER_MAGIC.copy(tail, 4);
  return Buffer.concat([json, tail]);
}

/** Reads the trailer length from the file's last 8 bytes; throws `CORRUPT` when they are not ours. */
export function trailerLength(tail: Uint8Array, fileSize: number, name: string): number {
  const buf = Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength);
  if (buf.byteLength !== TRAILER_TAIL || !buf.subarray(4, 8).equals(TRAILER_MAGIC)) {
    throw corrupt(name, 'missing trailer');
  }
  const length = buf.readUInt32BE(0);
  if (length + TRAILER_TAIL > fileSize) throw corrupt(name, 'trailer longer than the file');
  return length;
}

/** The trailer length, or `undefined` when the file has no trailer of ours (a plain file). */
export function tryTrailerLength(tail: Uint8Array, fileSize: number): number | undefined {
  try {
    return trailerLength(tail, fileSize, '');
  } catch {
    return undefined;
  }
}

/**
 * Where a blob file's content ends and its trailer lies, read from the file's last bytes. A file
 * without a trailer of ours (put there by hand, or cut short) is all content, with no
 * `trailerLength`: it reads as plain content so that its owner can still see it.
 */
export interface BlobFileLayout {
  /** Bytes of content at the start of the file. */
  readonly contentLength: number;
  /** Bytes of trailer JSON right after the content; absent for a plain file. */
  readonly trailerLength?: number;
}

/** The {@link BlobFileLayout} of a file of `fileSize` bytes whose last (up to 8) bytes are `tail`. */
export function blobFileLayout(tail: Uint8Array, fileSize: number): BlobFileLayout {
  const length = tryTrailerLength(tail, fileSize);
  if (length === undefined) return { contentLength: fileSize };
  return { contentLength: fileSize - TRAILER_TAIL - length, trailerLength: length };
}

/**
 * The trailer of a blob file laid out as `layout`: `json` (the `trailerLength` bytes after the
 * content) decoded, or, for a plain file, no metadata and the etag `plainEtag()` gives.
 */
export function blobTrailer(
  layout: BlobFileLayout,
  json: Uint8Array | undefined,
  name: string,
  plainEtag: () => string,
): BlobTrailer {
  if (layout.trailerLength === undefined || json === undefined) return { etag: plainEtag(), metadata: {} };
  return decodeTrailer(json, name);
}

/** Parses the trailer JSON; throws `CORRUPT` when it is malformed. */
export function decodeTrailer(json: Uint8Array, name: string): BlobTrailer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
  } catch (error) {
    throw corrupt(name, 'trailer is not JSON', error);
  }
  const t = parsed as Partial<BlobTrailer> | null;
  if (!t || typeof t.etag !== 'string' || typeof t.metadata !== 'object' || t.metadata === null) {
    throw corrupt(name, 'trailer lacks etag or metadata');
  }
  return {
    etag: t.etag,
    contentType: typeof t.contentType === 'string' ? t.contentType : undefined,
    metadata: t.metadata,
  };
}

function corrupt(name: string, why: string, cause?: unknown): VmkitError {
  return new VmkitError('CORRUPT', `blob ${name} is corrupt: ${why}`, { cause, details: { name } });
}
