import { VmkitError } from '../errors/vmkit-error.js';
import { throwIfAborted } from '../util/abort.js';
import type { StoredBlob } from './blob-store.js';
import { bodyToBytes, bytesStream, md5Etag } from './body.js';
import { type ClosableBlobStore, guardBlobStore } from './guard-blob-store.js';

interface Entry {
  readonly bytes: Uint8Array;
  readonly etag: string;
  readonly contentType?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly lastModified: Date;
}

/**
 * A {@link BlobStore} held in memory: for tests and short-lived processes. `close()` drops the
 * content; later calls fail with the closed error.
 */
export function memoryBlobStore(): ClosableBlobStore {
  const containers = new Map<string, Map<string, Entry>>();
  // Callers of watchBlob, by container and blob name: woken by a write or removal of that blob.
  const watchers = new Map<string, Set<() => void>>();
  const key = (name: string, blobName: string) => `${name}\u0000${blobName}`;
  const changed = (name: string, blobName?: string) => {
    for (const [k, wake] of watchers) {
      if (blobName === undefined ? k.startsWith(key(name, '')) : k === key(name, blobName))
        for (const w of [...wake]) w();
    }
  };

  const container = (name: string): Map<string, Entry> => {
    const found = containers.get(name);
    if (!found)
      throw new VmkitError('NOT_FOUND', `container ${name} does not exist`, { details: { container: name } });
    return found;
  };

  const toStored = (name: string, entry: Entry): StoredBlob => ({
    name,
    size: entry.bytes.byteLength,
    etag: entry.etag,
    contentType: entry.contentType,
    lastModified: entry.lastModified,
    metadata: entry.metadata,
    stream: () => bytesStream(entry.bytes),
    bytes: async () => Uint8Array.from(entry.bytes),
    text: async () => Buffer.from(entry.bytes).toString('utf8'),
  });

  return guardBlobStore('the memory blob store', {
    async createContainer(name) {
      if (!containers.has(name)) containers.set(name, new Map());
    },
    async containerExists(name) {
      return containers.has(name);
    },
    async deleteContainer(name) {
      containers.delete(name);
      changed(name);
    },
    async putBlob(name, blobName, body, options) {
      const blobs = container(name);
      throwIfAborted(options.signal, 'upload');
      const bytes = Uint8Array.from(await bodyToBytes(body, options.signal));
      throwIfAborted(options.signal, 'upload');
      if (options.ifNoneMatch === '*' && blobs.has(blobName)) {
        throw new VmkitError('CONFLICT', `blob ${blobName} already exists in ${name}`, {
          details: { container: name, name: blobName },
        });
      }
      const etag = md5Etag(bytes);
      blobs.set(blobName, {
        bytes,
        etag,
        contentType: options.contentType,
        metadata: Object.freeze({ ...options.metadata }),
        lastModified: new Date(),
      });
      changed(name, blobName);
      return { etag };
    },
    async getBlob(name, blobName, options) {
      const blobs = container(name);
      throwIfAborted(options.signal, 'download');
      const entry = blobs.get(blobName);
      return entry ? toStored(blobName, entry) : undefined;
    },
    async blobExists(name, blobName) {
      return container(name).has(blobName);
    },
    async removeBlob(name, blobName) {
      if (container(name).delete(blobName)) changed(name, blobName);
    },
    watchBlob(name, blobName, signal) {
      return new Promise<void>((resolve) => {
        const k = key(name, blobName);
        const wake = () => {
          signal.removeEventListener('abort', wake);
          const set = watchers.get(k);
          set?.delete(wake);
          if (set?.size === 0) watchers.delete(k);
          resolve();
        };
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', wake, { once: true });
        watchers.set(k, (watchers.get(k) ?? new Set()).add(wake));
      });
    },
    async list(name, options) {
      const blobs = container(name);
      const { maxKeys, marker } = options;
      const prefix = options.prefix ?? '';
      const names = [...blobs.keys()]
        .filter((n) => n.startsWith(prefix) && (marker === undefined || n > marker))
        .sort();
      const page = names.slice(0, maxKeys);
      const items = page.map((n) => {
        const entry = blobs.get(n) as Entry;
        return { name: n, size: entry.bytes.byteLength, etag: entry.etag, lastModified: entry.lastModified };
      });
      return names.length > maxKeys ? { items, nextMarker: page[page.length - 1] } : { items };
    },
    async close() {
      containers.clear();
    },
  });
}
