import type { Readable } from 'node:stream';

/** A blob body: bytes, text (UTF-8) or a stream. */
export type BlobBody = Uint8Array | string | Readable;

/** Options of {@link BlobStore.putBlob}. */
export interface PutBlobOptions {
  /** MIME type stored with the blob. */
  readonly contentType?: string;
  /** User metadata stored with the blob (ASCII keys, string values). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** `'*'`: create only if no blob of that name exists, else fail with `CONFLICT`. */
  readonly ifNoneMatch?: '*';
  /** Stops the upload; nothing partial becomes visible. */
  readonly signal?: AbortSignal;
}

/** A blob read from a store. */
export interface StoredBlob {
  /** Its name. */
  readonly name: string;
  /** Its size in bytes. */
  readonly size: number;
  /** Entity tag, changes whenever the content changes. */
  readonly etag?: string;
  /** MIME type, if one was stored. */
  readonly contentType?: string;
  /** When it was last written, if the store knows. */
  readonly lastModified?: Date;
  /** User metadata. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The content as a stream. */
  stream(): Readable;
  /** The whole content. */
  bytes(): Promise<Uint8Array>;
  /** The whole content as UTF-8 text. */
  text(): Promise<string>;
}

/** One entry of a listing. */
export interface BlobListItem {
  /** Blob name. */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** Entity tag, when the store gives it cheaply. */
  readonly etag?: string;
  /** Last write time, when known. */
  readonly lastModified?: Date;
}

/** Options of {@link BlobStore.list}. */
export interface ListOptions {
  /** Only names starting with this. */
  readonly prefix?: string;
  /** Only names after this one (the `nextMarker` of the previous page). */
  readonly marker?: string;
  /** Page size, 1-1000 (default 1000). */
  readonly maxKeys?: number;
}

/** One page of a listing, in name order. */
export interface ListPage {
  /** The entries. */
  readonly items: readonly BlobListItem[];
  /** Set when more entries follow: pass it as `marker` for the next page. */
  readonly nextMarker?: string;
}

/**
 * Where vmkit keeps master metadata: containers of named blobs. Implementations: the
 * filesystem store (default), memory, S3. Every implementation passes `describeBlobStoreContract`.
 *
 * Container names: 1-63 of `a-z 0-9 . _ -`, starting with a letter or digit. Blob names: 1-1024
 * characters, `/`-separated segments, none empty, `.` or `..`, no control characters or `\`.
 */
export interface BlobStore {
  /** Creates the container; does nothing when it exists. */
  createContainer(container: string): Promise<void>;
  /** Whether the container exists. */
  containerExists(container: string): Promise<boolean>;
  /** Deletes the container and every blob in it; absent is not an error. */
  deleteContainer(container: string): Promise<void>;
  /** Writes a blob atomically: readers see the old or the new content, never a part. */
  putBlob(
    container: string,
    name: string,
    body: BlobBody,
    options?: PutBlobOptions,
  ): Promise<{ etag?: string }>;
  /** Reads a blob; `undefined` when absent. */
  getBlob(
    container: string,
    name: string,
    options?: { signal?: AbortSignal },
  ): Promise<StoredBlob | undefined>;
  /** Whether the blob exists. */
  blobExists(container: string, name: string): Promise<boolean>;
  /** Removes a blob; absent is not an error. */
  removeBlob(container: string, name: string): Promise<void>;
  /** Lists blobs in name order, a page at a time. */
  list(container: string, options?: ListOptions): Promise<ListPage>;
  /**
   * Optional: a wake-up for a process polling one blob. Resolves when the blob `name` of
   * `container` may have changed (written, replaced or removed, by this process or another on the
   * same machine), or when `signal` aborts; rejects only an invalid container or blob name. A store that cannot watch the blob now
   * leaves the promise pending until the abort. Spurious wake-ups are allowed; a missed change is
   * not an error either, so callers keep polling and use this only to look again sooner. The
   * filesystem and memory stores implement it; S3 does not (its callers poll).
   */
  watchBlob?(container: string, name: string, signal: AbortSignal): Promise<void>;
}

/** Lists every blob of a container, following pages. */
export async function* listAll(
  store: BlobStore,
  container: string,
  prefix?: string,
): AsyncGenerator<BlobListItem> {
  let marker: string | undefined;
  do {
    const page = await store.list(container, { prefix, marker });
    yield* page.items;
    marker = page.nextMarker;
  } while (marker !== undefined);
}
