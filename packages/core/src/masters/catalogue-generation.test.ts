import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../blobstore/blob-store.js';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { silentLogger } from '../util/logger.js';
import { CatalogueGeneration } from './catalogue-generation.js';

const INDEX = 'idx';
const TOKEN = 'p-1/generation';

/** A store whose generation-token writes are counted, and answer `delayMs` after they landed. */
function slowTokenStore(delayMs: number): { store: BlobStore; tokenWrites: () => number } {
  const inner = memoryBlobStore();
  let writes = 0;
  const store = new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property !== 'putBlob') return typeof value === 'function' ? value.bind(target) : value;
      return async (container: string, name: string, ...rest: unknown[]) => {
        const written = await (value as (...args: unknown[]) => Promise<unknown>).call(
          target,
          container,
          name,
          ...rest,
        );
        if (name === TOKEN) {
          writes++;
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
        return written;
      };
    },
  }) as BlobStore;
  return { store, tokenWrites: () => writes };
}

describe('CatalogueGeneration', () => {
  it('has changes that finish while a token write runs share the next one, and each change moves the token', async () => {
    const { store, tokenWrites } = slowTokenStore(50);
    await store.createContainer(INDEX);
    const generation = new CatalogueGeneration(store, INDEX, 'p-1/', { logger: silentLogger });
    const before = (await generation.read()).token;
    const tokens: Array<string | undefined> = [];
    // Eight changes land one after another while token writes run: each must end with a token
    // written after it landed, yet they need far fewer than eight writes.
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        generation.change(async () => {
          await new Promise((resolve) => setTimeout(resolve, i * 10));
          tokens.push((await generation.read()).token);
        }),
      ),
    );
    const after = await generation.read();
    expect(after.pending).toEqual([]);
    expect(after.token).not.toBe(before);
    expect(tokens).not.toContain(after.token);
    expect(tokenWrites()).toBeGreaterThanOrEqual(2);
    expect(tokenWrites()).toBeLessThanOrEqual(4);
  });

  it('moves the token after a change that finishes while a token write is under way', async () => {
    const { store } = slowTokenStore(80);
    await store.createContainer(INDEX);
    const generation = new CatalogueGeneration(store, INDEX, 'p-1/', { logger: silentLogger });
    let lateSeen: string | undefined;
    const first = generation.change(async () => {});
    // Lands while the first change's token write (80 ms) is under way.
    const late = generation.change(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      lateSeen = (await generation.read()).token;
    });
    await Promise.all([first, late]);
    expect((await generation.read()).token).not.toBe(lateSeen);
  });
});
