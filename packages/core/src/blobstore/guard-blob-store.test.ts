import { describe, expect, it } from 'vitest';
import { isClosedError, VmkitError } from '../errors/vmkit-error.js';
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

  it('turns every failure of the driver into a STORE VmkitError naming the call, retryable when transient', async () => {
    const busy = Object.assign(new Error('EAGAIN: resource temporarily unavailable'), { code: 'EAGAIN' });
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const driver = recordingDriver([]);
    driver.list = async () => Promise.reject(busy);
    driver.removeBlob = async () => Promise.reject(denied);
    driver.getBlob = async (_c, name) => ({
      name,
      size: 1,
      metadata: {},
      stream: () => Promise.reject(busy) as never,
      bytes: async () => Promise.reject(busy),
      text: async () => Promise.reject(busy),
    });
    const store = guardBlobStore('the test store', driver);
    const listed = await store.list('c', { prefix: 'p/' }).catch((e: unknown) => e);
    expect(VmkitError.is(listed, 'STORE')).toBe(true);
    expect(listed).toMatchObject({ retryable: true, cause: busy });
    expect((listed as VmkitError).details).toEqual({ operation: 'list', container: 'c', errno: 'EAGAIN' });
    await expect(store.removeBlob('c', 'a/b')).rejects.toMatchObject({
      code: 'STORE',
      retryable: false,
      fault: 'environment',
      cause: denied,
      details: { operation: 'removeBlob', container: 'c', name: 'a/b', errno: 'EACCES' },
    });
    const blob = await store.getBlob('c', 'x');
    await expect(blob?.text()).rejects.toMatchObject({
      code: 'STORE',
      details: { operation: 'getBlob (reading)', container: 'c', name: 'x' },
    });
  });

  it('names the call in a STORE error of the driver that does not, keeping its class and cause', async () => {
    const driver = recordingDriver([]);
    const own = new VmkitError('STORE', 'S3 putBlob b/k: server error', {
      retryable: true,
      cause: 'the original',
      details: { operation: 'putBlob', bucket: 'b' },
    });
    driver.putBlob = async () => Promise.reject(own);
    const store = guardBlobStore('the test store', driver);
    await expect(store.putBlob('c', 'n', 'x')).rejects.toMatchObject({
      code: 'STORE',
      message: own.message,
      retryable: true,
      cause: 'the original',
      details: { operation: 'putBlob', bucket: 'b', container: 'c', name: 'n' },
    });
  });
});
