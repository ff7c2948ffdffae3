import { describe, expect, it } from 'vitest';
import { isClosedError } from '../errors/vmkit-error.js';
import { type BlobStoreDriver, guardBlobStore } from './guard-blob-store.js';

function recordingDriver(calls: string[]): BlobStoreDriver {
  const record =
    (name: string) =>
    async (...args: unknown[]) => {
      calls.push(`${name} ${JSON.stringify(args)}`);
      return undefined as never;
    };
  return {
    createContainer: record('createContainer'),
    containerExists: record('containerExists'),
    deleteContainer: record('deleteContainer'),
    putBlob: record('putBlob'),
    getBlob: record('getBlob'),
    blobExists: record('blobExists'),
    removeBlob: record('removeBlob'),
    list: record('list'),
    close: record('close'),
  };
}

describe('guardBlobStore', () => {
  it('hands the driver checked arguments only, with the page size and options filled in', async () => {
    const calls: string[] = [];
    const store = guardBlobStore('the test store', recordingDriver(calls));
    await store.list('c');
    await store.getBlob('c', 'a/b');
    await store.putBlob('c', 'x', 'body');
    await expect(store.putBlob('c', '../x', 'body')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.list('c', { maxKeys: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.createContainer('Bad')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(calls).toEqual([
      'list ["c",{"maxKeys":1000}]',
      'getBlob ["c","a/b",{}]',
      'putBlob ["c","x","body",{}]',
    ]);
  });

  it('closes the driver once however many closes run, then refuses calls without reaching it', async () => {
    const calls: string[] = [];
    const store = guardBlobStore('the test store', recordingDriver(calls));
    await Promise.all([store.close(), store.close(), store[Symbol.asyncDispose]()]);
    await store.close();
    const error = await store.blobExists('c', 'a').catch((e: unknown) => e);
    expect(isClosedError(error)).toBe(true);
    expect((error as Error).message).toBe('the test store is closed');
    expect(calls).toEqual(['close []']);
  });

  it('checks arguments before the closed state, so a bad name reads the same on an open or closed store', async () => {
    const store = guardBlobStore('the test store', recordingDriver([]));
    await store.close();
    await expect(store.getBlob('c', '')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
