import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { VmkitError } from '@vmkit/core';
import { describe, expect, it } from 'vitest';
import { s3BlobStore } from './s3-blob-store.js';
import { useProxiedS3Server } from './testing/proxied-server.js';
import { testClient, testStoreOptions } from './testing/test-store.js';

const MIB = 1024 * 1024;

// A read past the first MiB is resumed with a ranged GET; whatever answers it (a proxy or cache
// that drops Range, a server that ignores If-Match) must not get other bytes stitched in.
describe('S3 blob store: checks on resumed reads', () => {
  const env = useProxiedS3Server();
  const store = () =>
    s3BlobStore({
      ...testStoreOptions(env.server, env.bucket),
      endpoint: env.proxy.endpoint,
      retry: { baseDelayMs: 5 },
    });
  const content = (size: number, seed: number) => {
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed + (i >> 20)) & 255;
    return bytes;
  };

  it('fails with CORRUPT, not wrong bytes, when the resumed GET ignores Range (unverifiable ETag)', async () => {
    await using s = store();
    await s.createContainer('c');
    // Written by a plain multipart client: no part size recorded, so an "md5-N" ETag cannot be checked.
    const body = content(12 * MIB, 1);
    const client = testClient(env.server);
    try {
      const key = 'c/other';
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: env.bucket, Key: key }),
      );
      const parts = [];
      for (let n = 1; n <= 2; n++) {
        const part = body.subarray((n - 1) * 6 * MIB, n * 6 * MIB);
        const { ETag } = await client.send(
          new UploadPartCommand({ Bucket: env.bucket, Key: key, UploadId, PartNumber: n, Body: part }),
        );
        parts.push({ PartNumber: n, ETag });
      }
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: env.bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } finally {
      client.destroy();
    }
    // AWS gives such objects an "md5-N" ETag; s3rver gives the whole MD5, so the proxy makes it look
    // like AWS (and undoes it in If-Match). The resumed GET (the one with If-Match) loses its Range.
    env.proxy.responseHeaders = (req, h) =>
      req.url?.includes('/c/other') && typeof h.etag === 'string'
        ? { ...h, etag: h.etag.replace(/"$/, '-2"') }
        : h;
    env.proxy.requestHeaders = (_req, h) => {
      if (typeof h['if-match'] !== 'string') return h;
      const { range: _, ...rest } = h;
      return { ...rest, 'if-match': h['if-match'].replace(/-2"$/, '"') };
    };
    try {
      const blob = await s.getBlob('c', 'other');
      expect(blob?.etag).toMatch(/-2"$/);
      const error = await blob?.bytes().catch((e: unknown) => e);
      expect(VmkitError.is(error, 'CORRUPT')).toBe(true);
      expect((error as Error).message).toMatch(/HTTP 200 .* instead of 206 with bytes 1048576-/);
    } finally {
      env.proxy.responseHeaders = (_req, h) => h;
      env.proxy.requestHeaders = (_req, h) => h;
    }
  });

  it('fails with CONFLICT when the object is replaced between the first and the resumed GET', async () => {
    // s3rver ignores If-Match: the store must compare the resumed answer's ETag itself.
    await using s = store();
    await s.createContainer('c');
    await s.putBlob('c', 'swap', content(3 * MIB, 2));
    const blob = await s.getBlob('c', 'swap');
    await s.putBlob('c', 'swap', content(3 * MIB, 3)); // same size, other bytes
    const error = await blob?.bytes().catch((e: unknown) => e);
    expect(VmkitError.is(error, 'CONFLICT')).toBe(true);
  });

  it('checks the Content-Range of the first answer', async () => {
    await using s = store();
    await s.createContainer('c');
    await s.putBlob('c', 'small', 'hello');
    env.proxy.responseHeaders = (req, h) =>
      req.url?.includes('/c/small') && h['content-range'] ? { ...h, 'content-range': 'bytes 1-5/6' } : h;
    try {
      await expect(s.getBlob('c', 'small')).rejects.toSatisfy((e) => VmkitError.is(e, 'CORRUPT'));
    } finally {
      env.proxy.responseHeaders = (_req, h) => h;
    }
  });
});
