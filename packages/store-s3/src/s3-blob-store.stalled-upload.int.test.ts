import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { VmkitError } from '@vmkit/core';
import { describe, expect, it, vi } from 'vitest';
import { s3BlobStore } from './s3-blob-store.js';
import { useProxiedS3Server } from './testing/proxied-server.js';
import { testStoreOptions } from './testing/test-store.js';

const MIB = 1024 * 1024;

// A producer that writes some bytes and then stalls for good: the upload must still end at once
// when the caller aborts or a part fails, not wait for bytes that never come.
describe('S3 blob store: uploads from a stalled stream', () => {
  const env = useProxiedS3Server();
  // s3rver does not implement ListMultipartUploads; its open uploads are directories here. The
  // bucket's folder must exist (a wrong name fails); s3rver makes the uploads folder on the first
  // multipart upload, so only its absence reads as none.
  const openUploads = async (): Promise<string[]> => {
    const bucket = join(env.server.directory, env.bucket);
    if (!(await readdir(bucket)).includes('._S3rver_uploads')) return [];
    return readdir(join(bucket, '._S3rver_uploads'));
  };
  const stalled = (initial: number) => {
    const body = new PassThrough();
    body.write(Buffer.alloc(initial, 1)); // and nothing more, ever
    return body;
  };

  it.each([
    ['within the first part', 1000],
    ['with a multipart upload under way', 6 * MIB],
  ])('an abort ends the upload promptly (%s), destroys the body and leaves no upload', async (_, initial) => {
    await using store = s3BlobStore({
      ...testStoreOptions(env.server, env.bucket),
      endpoint: env.proxy.endpoint,
      partSize: 5 * MIB,
      queueSize: 1,
    });
    await store.createContainer('abort');
    const before = env.proxy.requests.length;
    const body = stalled(initial);
    const controller = new AbortController();
    const putting = store.putBlob('abort', 'stalled', body, { signal: controller.signal });
    // Aborted once the upload has taken the producer's bytes and, for the larger body, sent
    // part 1 (both observed), so the abort meets an upload under way.
    await vi.waitFor(
      () => {
        expect(body.readableLength).toBe(0);
        if (initial > 5 * MIB)
          expect(env.proxy.requests.slice(before).join('\n')).toMatch(/^PUT .*partNumber=1/m);
      },
      { timeout: 10_000, interval: 10 },
    );
    const abortedAt = Date.now();
    controller.abort();
    const error = await putting.catch((e: unknown) => e);
    // The producer never ends: without the abort the upload waits for ever (10 s: room for load).
    expect(Date.now() - abortedAt).toBeLessThan(10_000);
    expect(VmkitError.is(error, 'ABORTED')).toBe(true);
    expect(body.destroyed).toBe(true);
    const sent = env.proxy.requests.slice(before);
    // The larger body did start a multipart upload (and sent part 1), which is aborted.
    if (initial > 5 * MIB) expect(sent.some((r) => /^PUT .*partNumber=1/.test(r))).toBe(true);
    expect(await openUploads()).toEqual([]);
    expect(await store.blobExists('abort', 'stalled')).toBe(false);
  });

  it('a part refused for good ends the upload at once, while the producer is stalled', async () => {
    await using store = s3BlobStore({
      ...testStoreOptions(env.server, env.bucket),
      endpoint: env.proxy.endpoint,
      partSize: 5 * MIB,
      queueSize: 2,
    });
    await store.createContainer('fail');
    env.proxy.inject = (req) =>
      req.method === 'PUT' && req.url?.includes('partNumber=1')
        ? { status: 400, code: 'InvalidRequest' }
        : undefined;
    const body = stalled(6 * MIB);
    const started = Date.now();
    const error = await store.putBlob('fail', 'stalled', body).catch((e: unknown) => e);
    env.proxy.inject = () => undefined;
    expect(Date.now() - started).toBeLessThan(10_000); // the producer never ends: else for ever
    // The part's own failure is reported, not the stop of the read it caused.
    expect(VmkitError.is(error, 'STORE')).toBe(true);
    expect((error as VmkitError).details).toMatchObject({ s3Code: 'InvalidRequest', status: 400 });
    expect(body.destroyed).toBe(true);
    expect(await openUploads()).toEqual([]);
    expect(await store.blobExists('fail', 'stalled')).toBe(false);
  });
});
