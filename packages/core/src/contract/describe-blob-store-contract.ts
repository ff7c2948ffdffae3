import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../blobstore/blob-store.js';
import { listAll } from '../blobstore/blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { describeChurnContract } from './blob-store-churn-contract.js';
import { describeGuardContract } from './blob-store-guard-contract.js';
import { describeWatchContract } from './blob-store-watch-contract.js';

/** What a blob store contract run needs: a store and, optionally, a way to dispose of it. */
export interface BlobStoreContractSubject {
  /** The store under test. */
  readonly store: BlobStore;
  /** Called once after the suite. */
  cleanup?(): Promise<void>;
}

/** Options of {@link describeBlobStoreContract}. */
export interface BlobStoreContractOptions {
  /** Blobs to create for the pagination test (default 2,100: more than two pages). */
  readonly paginationCount?: number;
  /** Whether `ifNoneMatch: '*'` is supported (default true); when false it must fail with `UNSUPPORTED`. */
  readonly conditionalPut?: boolean;
  /** Listings (and reads) made while other callers change the same folders (default 300). */
  readonly churnRounds?: number;
  /** Whether the store has `watchBlob` (default false); when true the watch cases run. */
  readonly watch?: boolean;
}

/**
 * The shared test suite every {@link BlobStore} passes (vitest). Call it from a test file:
 * `describeBlobStoreContract('s3', async () => ({ store: s3BlobStore({...}) }))`. The factory is
 * called once for the suite and once more for a store that the suite closes (stores have
 * `close()`, as `guardBlobStore` gives them, and refuse calls after it with the closed error).
 */
export function describeBlobStoreContract(
  name: string,
  factory: () => Promise<BlobStoreContractSubject>,
  options: BlobStoreContractOptions = {},
): void {
  describe(`BlobStore contract: ${name}`, () => {
    let subject: BlobStoreContractSubject;
    let store: BlobStore;
    let n = 0;
    const fresh = async (): Promise<string> => {
      const container = `contract-${process.pid}-${Date.now().toString(36)}-${n++}`;
      await store.createContainer(container);
      return container;
    };

    beforeAll(async () => {
      subject = await factory();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.cleanup?.();
    });

    it('creates containers idempotently and deletes them with their blobs', async () => {
      const c = await fresh();
      await store.createContainer(c);
      expect(await store.containerExists(c)).toBe(true);
      await store.putBlob(c, 'a', 'x');
      await store.deleteContainer(c);
      expect(await store.containerExists(c)).toBe(false);
      await store.deleteContainer(c);
    });

    it('round-trips bytes, text, streams, content type and metadata', async () => {
      const c = await fresh();
      const bytes = new Uint8Array(70_000).map((_, i) => (i * 31) % 256);
      await store.putBlob(c, 'bin', bytes, {
        contentType: 'application/octet-stream',
        metadata: { owner: 'me', k2: 'v 2' },
      });
      const got = await store.getBlob(c, 'bin');
      expect(got?.size).toBe(bytes.byteLength);
      expect(Buffer.from((await got?.bytes()) ?? [])).toEqual(Buffer.from(bytes));
      expect(got?.contentType).toBe('application/octet-stream');
      expect(got?.metadata).toEqual({ owner: 'me', k2: 'v 2' });
      await store.putBlob(c, 'txt', 'héllo wörld');
      expect(await (await store.getBlob(c, 'txt'))?.text()).toBe('héllo wörld');
      await store.putBlob(c, 'stream', Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
      const streamed = await store.getBlob(c, 'stream');
      const chunks: Buffer[] = [];
      for await (const chunk of streamed?.stream() ?? []) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('abcd');
    });

    it('keeps a large streamed body byte for byte', async () => {
      const c = await fresh();
      const size = 6 * 1024 * 1024 + 123;
      const hash = createHash('sha256');
      const source = Readable.from(
        (function* () {
          for (let off = 0; off < size; off += 65_536) {
            const chunk = Buffer.alloc(Math.min(65_536, size - off), off % 251);
            hash.update(chunk);
            yield chunk;
          }
        })(),
      );
      await store.putBlob(c, 'big', source);
      const got = await store.getBlob(c, 'big');
      expect(got?.size).toBe(size);
      const back = createHash('sha256');
      for await (const chunk of got?.stream() ?? []) back.update(chunk as Buffer);
      expect(back.digest('hex')).toBe(hash.digest('hex'));
    });

    it('returns undefined for absent blobs and treats removal of absent blobs as success', async () => {
      const c = await fresh();
      expect(await store.getBlob(c, 'missing')).toBeUndefined();
      expect(await store.blobExists(c, 'missing')).toBe(false);
      await store.removeBlob(c, 'missing');
      await store.putBlob(c, 'here', 'x');
      expect(await store.blobExists(c, 'here')).toBe(true);
      await store.removeBlob(c, 'here');
      expect(await store.blobExists(c, 'here')).toBe(false);
    });

    it('changes the etag when the content changes', async () => {
      const c = await fresh();
      const first = await store.putBlob(c, 'e', 'one');
      const second = await store.putBlob(c, 'e', 'two');
      const got = await store.getBlob(c, 'e');
      expect(first.etag).toBeDefined();
      expect(second.etag).not.toBe(first.etag);
      expect(got?.etag).toBe(second.etag);
    });

    it('honours ifNoneMatch: "*"', async () => {
      const c = await fresh();
      if (options.conditionalPut === false) {
        await expect(store.putBlob(c, 'once', 'a', { ifNoneMatch: '*' })).rejects.toSatisfy((e) =>
          VmkitError.is(e, 'UNSUPPORTED'),
        );
        return;
      }
      await store.putBlob(c, 'once', 'a', { ifNoneMatch: '*' });
      await expect(store.putBlob(c, 'once', 'b', { ifNoneMatch: '*' })).rejects.toSatisfy((e) =>
        VmkitError.is(e, 'CONFLICT'),
      );
      expect(await (await store.getBlob(c, 'once'))?.text()).toBe('a');
    });

    it('puts and removes many blobs of one folder at once, none failing', async () => {
      const c = await fresh();
      // Short-lived blobs side by side (such as change markers): a removal emptying the folder
      // must not make a concurrent put into it fail.
      await Promise.all(
        Array.from({ length: 64 }, async (_, i) => {
          for (let round = 0; round < 3; round++) {
            await store.putBlob(c, `a/b/f/${i}-${round}`, 'x');
            await store.removeBlob(c, `a/b/f/${i}-${round}`);
          }
        }),
      );
      await store.putBlob(c, 'a/b/f/last', 'y');
      expect((await store.list(c, { prefix: 'a/' })).items.map((i) => i.name)).toEqual(['a/b/f/last']);
    });

    it('lists the same entity tag as a read gives, when it lists one', async () => {
      const c = await fresh();
      await store.putBlob(c, 'tag/a', 'one', { metadata: { k: 'v' } });
      await store.putBlob(c, 'tag/b', 'two');
      const before = (await store.list(c, { prefix: 'tag/' })).items;
      await store.putBlob(c, 'tag/a', 'three');
      const after = (await store.list(c, { prefix: 'tag/' })).items;
      for (const item of [...before.slice(1), ...after]) {
        if (item.etag !== undefined) expect(item.etag).toBe((await store.getBlob(c, item.name))?.etag);
      }
      if (before[0]?.etag !== undefined) expect(after[0]?.etag).not.toBe(before[0].etag);
    });

    it('lists in name order with prefixes and nested names', async () => {
      const c = await fresh();
      for (const n of ['b', 'a/2', 'a/1', 'c/d/e', 'ab']) await store.putBlob(c, n, n);
      const page = await store.list(c);
      expect(page.items.map((i) => i.name)).toEqual(['a/1', 'a/2', 'ab', 'b', 'c/d/e']);
      expect(page.nextMarker).toBeUndefined();
      expect(page.items.find((i) => i.name === 'c/d/e')?.size).toBe(5);
      expect((await store.list(c, { prefix: 'a/' })).items.map((i) => i.name)).toEqual(['a/1', 'a/2']);
    });

    it('paginates completely with markers', async () => {
      const c = await fresh();
      const count = options.paginationCount ?? 2100;
      const names = Array.from({ length: count }, (_, i) => `item-${String(i).padStart(5, '0')}`);
      for (let i = 0; i < names.length; i += 50) {
        await Promise.all(names.slice(i, i + 50).map((n) => store.putBlob(c, n, n)));
      }
      const first = await store.list(c, { maxKeys: 7 });
      expect(first.items).toHaveLength(7);
      expect(first.nextMarker).toBe(names[6]);
      const seen: string[] = [];
      for await (const item of listAll(store, c)) seen.push(item.name);
      expect(seen).toEqual(names);
    });

    it('rejects names that could escape or confuse the store, naming the rule', async () => {
      const c = await fresh();
      for (const bad of ['../x', 'a/../../x', '/abs', 'a//b', '', 'nul\u0000', 'back\\slash', 'a/./b']) {
        await expect(store.putBlob(c, bad, 'x')).rejects.toSatisfy(
          (e) => VmkitError.is(e, 'INVALID_ARGUMENT') && /name/.test((e as Error).message),
        );
      }
      for (const bad of ['..', 'UPPER', '../etc', 'a/b', '']) {
        await expect(store.createContainer(bad)).rejects.toSatisfy((e) =>
          VmkitError.is(e, 'INVALID_ARGUMENT'),
        );
      }
      await expect(store.list(c, { maxKeys: 0 })).rejects.toSatisfy((e) =>
        VmkitError.is(e, 'INVALID_ARGUMENT'),
      );
    });

    describeGuardContract(() => store, fresh, factory);
    describeChurnContract(() => store, fresh, options.churnRounds ?? 300);
    if (options.watch) describeWatchContract(() => store, fresh);

    it('reports NOT_FOUND for operations on a missing container', async () => {
      const missing = `missing-${Date.now().toString(36)}`;
      await expect(store.putBlob(missing, 'a', 'x')).rejects.toSatisfy((e) => VmkitError.is(e, 'NOT_FOUND'));
      await expect(store.list(missing)).rejects.toSatisfy((e) => VmkitError.is(e, 'NOT_FOUND'));
    });

    it('aborts an upload without leaving a blob', async () => {
      const c = await fresh();
      const controller = new AbortController();
      const body = Readable.from(
        (async function* () {
          yield Buffer.alloc(1024, 1);
          controller.abort();
          yield Buffer.alloc(1024, 2);
        })(),
      );
      await expect(store.putBlob(c, 'aborted', body, { signal: controller.signal })).rejects.toSatisfy((e) =>
        VmkitError.is(e, 'ABORTED'),
      );
      expect(await store.blobExists(c, 'aborted')).toBe(false);
      await expect(store.putBlob(c, 'pre', 'x', { signal: AbortSignal.abort() })).rejects.toSatisfy((e) =>
        VmkitError.is(e, 'ABORTED'),
      );
    });
  });
}
