import { Readable } from 'node:stream';
import { VmkitError } from '@vmkit/core';
import { describe, expect, it } from 'vitest';
import { s3BlobStore } from './s3-blob-store.js';
import { useProxiedS3Server } from './testing/proxied-server.js';
import { testStoreOptions } from './testing/test-store.js';

// Error mapping and retries against the real server, with faults injected by a loopback proxy.
describe('S3 blob store: faults, retries and error mapping', () => {
  const env = useProxiedS3Server();
  const storeVia = (endpoint: string, extra: Partial<Parameters<typeof s3BlobStore>[0]> = {}) =>
    s3BlobStore({
      ...testStoreOptions(env.server, env.bucket),
      endpoint,
      retry: { baseDelayMs: 5, maxDelayMs: 50 },
      ...extra,
    });

  it('retries throttling and 5xx with back-off, then succeeds', async () => {
    await using store = storeVia(env.proxy.endpoint);
    await store.createContainer('retry');
    let faults = 2;
    env.proxy.inject = (req) =>
      req.method === 'PUT' && faults-- > 0 ? { status: 503, code: 'SlowDown' } : undefined;
    const before = env.proxy.requests.length;
    await store.putBlob('retry', 'x', 'content');
    env.proxy.inject = () => undefined;
    const puts = env.proxy.requests.slice(before).filter((r) => r.startsWith('PUT'));
    expect(puts).toHaveLength(3);
    expect(await (await store.getBlob('retry', 'x'))?.text()).toBe('content');
  });

  it('gives up after maxAttempts with a STORE error saying "throttled"', async () => {
    await using store = storeVia(env.proxy.endpoint, {
      retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    });
    await store.createContainer('throttle');
    env.proxy.inject = (req) => (req.method === 'PUT' ? { status: 503, code: 'SlowDown' } : undefined);
    const before = env.proxy.requests.length;
    const error = await store.putBlob('throttle', 'x', 'content').catch((e: unknown) => e);
    env.proxy.inject = () => undefined;
    expect(VmkitError.is(error, 'STORE')).toBe(true);
    expect((error as VmkitError).details).toMatchObject({
      reason: 'throttled',
      s3Code: 'SlowDown',
      status: 503,
      attempts: 3,
    });
    expect((error as Error).message).toMatch(/throttled/);
    expect(env.proxy.requests.slice(before).filter((r) => r.startsWith('PUT'))).toHaveLength(3);
  });

  it('does not retry client errors, and maps access denied', async () => {
    await using store = storeVia(env.proxy.endpoint);
    await store.createContainer('denied');
    env.proxy.inject = (req) => (req.method === 'GET' ? { status: 403, code: 'AccessDenied' } : undefined);
    const before = env.proxy.requests.length;
    const error = await store.getBlob('denied', 'x').catch((e: unknown) => e);
    env.proxy.inject = () => undefined;
    expect(VmkitError.is(error, 'STORE')).toBe(true);
    expect((error as VmkitError).details).toMatchObject({ reason: 'access-denied', status: 403 });
    expect(env.proxy.requests.slice(before).filter((r) => r.startsWith('GET'))).toHaveLength(1);
  });

  it('maps unknown credentials to access-denied and a missing bucket to NOT_FOUND', async () => {
    await using wrongKeys = s3BlobStore({
      ...testStoreOptions(env.server, env.bucket),
      credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'nothing' },
    });
    const denied = await wrongKeys.createContainer('c').catch((e: unknown) => e);
    expect((denied as VmkitError).details).toMatchObject({
      reason: 'access-denied',
      s3Code: 'InvalidAccessKeyId',
    });
    await using noBucket = s3BlobStore({ ...testStoreOptions(env.server, 'no-such-bucket-here') });
    const missing = await noBucket.createContainer('c').catch((e: unknown) => e);
    expect(VmkitError.is(missing, 'NOT_FOUND')).toBe(true);
    expect((missing as VmkitError).details).toMatchObject({ reason: 'no-such-bucket' });
  });

  it('reports a missing bucket as NOT_FOUND no-such-bucket from every operation, never as a missing container', async () => {
    await using noBucket = s3BlobStore({ ...testStoreOptions(env.server, 'no-such-bucket-either') });
    const operations: Array<[string, () => Promise<unknown>]> = [
      ['containerExists', () => noBucket.containerExists('c')],
      ['createContainer', () => noBucket.createContainer('c')],
      ['deleteContainer', () => noBucket.deleteContainer('c')],
      ['getBlob', () => noBucket.getBlob('c', 'x')],
      ['blobExists', () => noBucket.blobExists('c', 'x')],
      ['removeBlob', () => noBucket.removeBlob('c', 'x')],
      ['putBlob', () => noBucket.putBlob('c', 'x', 'y')],
      ['list', () => noBucket.list('c')],
    ];
    for (const [operation, run] of operations) {
      const outcome = await run().then(
        (value) => ({ resolved: value }),
        (e: unknown) => e,
      );
      expect({ operation, code: (outcome as VmkitError).code }).toEqual({ operation, code: 'NOT_FOUND' });
      expect({ operation, details: (outcome as VmkitError).details }).toMatchObject({
        operation,
        details: { reason: 'no-such-bucket' },
      });
    }
  });

  it('reports an unreachable endpoint as a STORE error after bounded retries', async () => {
    await using store = storeVia('http://127.0.0.1:9', {
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
    });
    const error = await store.containerExists('c').catch((e: unknown) => e);
    expect(VmkitError.is(error, 'STORE')).toBe(true);
    expect((error as VmkitError).details).toMatchObject({ reason: 'unreachable' });
    expect((error as Error).message).toMatch(/unreachable \(ECONNREFUSED\)/);
  });

  it('resumes a download whose connection breaks, and stays byte-exact', async () => {
    await using store = storeVia(env.proxy.endpoint);
    await store.createContainer('resume');
    const size = 3 * 1024 * 1024 + 17;
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 7919) % 251;
    await store.putBlob('resume', 'big', bytes);
    const blob = await store.getBlob('resume', 'big');
    // The GET of the rest breaks after 300,000 bytes; the store asks again from the byte it got to.
    let cut = 1;
    const ranges: string[] = [];
    env.proxy.inject = (req) => {
      if (req.method !== 'GET') return undefined;
      ranges.push(String(req.headers.range));
      return cut-- > 0 && /bytes=1048576-/.test(String(req.headers.range))
        ? { cutAfter: 300_000 }
        : undefined;
    };
    const back = Buffer.from((await blob?.bytes()) ?? []);
    env.proxy.inject = () => undefined;
    // Two requests for the rest: the second starts where the received bytes ended (<= the cut).
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toBe(`bytes=1048576-${size - 1}`);
    const resumedAt = Number(/bytes=(\d+)-/.exec(ranges[1] ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(1048576);
    expect(resumedAt).toBeLessThanOrEqual(1048576 + 300_000);
    expect(back.equals(bytes)).toBe(true);
  });

  it('honours an AbortSignal on reads, before and during the body', async () => {
    await using store = storeVia(env.proxy.endpoint);
    await store.createContainer('abort');
    await store.putBlob('abort', 'big', Buffer.alloc(4 * 1024 * 1024, 3));
    await expect(store.getBlob('abort', 'big', { signal: AbortSignal.abort() })).rejects.toSatisfy((e) =>
      VmkitError.is(e, 'ABORTED'),
    );
    const controller = new AbortController();
    const blob = await store.getBlob('abort', 'big', { signal: controller.signal });
    const reading = (async () => {
      let n = 0;
      for await (const chunk of blob?.stream() ?? Readable.from([])) {
        n += (chunk as Buffer).byteLength;
        if (n > 1024 * 1024) controller.abort();
      }
    })();
    await expect(reading).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
  });
});
