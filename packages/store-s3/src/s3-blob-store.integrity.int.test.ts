import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { VmkitError } from '@vmkit/core';
import { describe, expect, it } from 'vitest';
import { s3BlobStore } from './s3-blob-store.js';
import { withoutNodeVersionWarning } from './sdk-node-version-warning.js';
import { useProxiedS3Server } from './testing/proxied-server.js';
import { pseudoRandomStream } from './testing/pseudo-random-stream.js';
import { testStoreOptions } from './testing/test-store.js';

const MIB = 1024 * 1024;

describe('S3 blob store: integrity', () => {
  const env = useProxiedS3Server();

  const tamper = async (key: string, at: number) => {
    const file = join(env.server.directory, env.bucket, `${key}._S3rver_object`);
    const bytes = await readFile(file);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    await writeFile(file, bytes);
  };

  it('detects content that no longer matches its ETag, small and streamed', async () => {
    await using store = s3BlobStore(testStoreOptions(env.server, env.bucket));
    await store.createContainer('rot');
    await store.putBlob('rot', 'small', 'the quick brown fox');
    await tamper('rot/small', 4);
    await expect(store.getBlob('rot', 'small')).rejects.toSatisfy((e) => VmkitError.is(e, 'CORRUPT'));

    const big = pseudoRandomStream(3 * MIB + 5);
    await store.putBlob('rot', 'big', big.stream);
    await tamper('rot/big', 2 * MIB);
    const blob = await store.getBlob('rot', 'big');
    await expect(blob?.bytes()).rejects.toSatisfy((e) => VmkitError.is(e, 'CORRUPT'));
  });

  it('refuses bytes corrupted on the way up: single PUT (Content-MD5) and multipart (ETag check)', async () => {
    await using store = s3BlobStore({
      ...testStoreOptions(env.server, env.bucket),
      endpoint: env.proxy.endpoint,
      partSize: 5 * MIB,
    });
    await store.createContainer('wire');
    env.proxy.inject = (req) =>
      req.method === 'PUT' && !req.url?.endsWith('/wire/') ? { flipRequestByte: 10 } : undefined;
    const single = await store.putBlob('wire', 'one', Buffer.alloc(1000, 1)).catch((e: unknown) => e);
    // s3rver does not check Content-MD5: the ETag check after the PUT catches it (AWS answers BadDigest).
    expect(VmkitError.is(single, 'CORRUPT')).toBe(true);
    env.proxy.inject = (req) => (req.method === 'PUT' ? { status: 400, code: 'BadDigest' } : undefined);
    const refused = await store.putBlob('wire', 'refused', 'x').catch((e: unknown) => e);
    expect(VmkitError.is(refused, 'CORRUPT')).toBe(true);
    expect((refused as VmkitError).details).toMatchObject({ reason: 'bad-digest', s3Code: 'BadDigest' });
    // s3rver does not check Content-MD5 on parts; the store checks each part's ETag (and the final one).
    env.proxy.inject = (req) =>
      req.method === 'PUT' && /partNumber=2/.test(req.url ?? '') ? { flipRequestByte: 10 } : undefined;
    const multi = await store
      .putBlob('wire', 'many', pseudoRandomStream(12 * MIB).stream)
      .catch((e: unknown) => e);
    env.proxy.inject = () => undefined;
    expect(VmkitError.is(multi, 'CORRUPT')).toBe(true);
    // The corrupted single PUT is removed (the server's ETag matches its stored, altered bytes, so
    // reads could not tell); the multipart upload never completed.
    expect((single as VmkitError).details).toMatchObject({ removed: true });
    expect(await store.blobExists('wire', 'one')).toBe(false);
    expect(await store.blobExists('wire', 'many')).toBe(false);
  });

  it('removes a mismatched upload only while the key still holds it (If-Match on its ETag)', async () => {
    await using store = s3BlobStore({
      ...testStoreOptions(env.server, env.bucket),
      endpoint: env.proxy.endpoint,
    });
    await store.createContainer('keep');
    // The answer to our PUT names an ETag the key does not hold (as when another writer's object
    // replaced it since): the conditional delete fails, and the object at the key stays.
    env.proxy.responseHeaders = (req, h) =>
      req.method === 'PUT' && req.url?.includes('/keep/x') ? { ...h, etag: `"${'0'.repeat(32)}"` } : h;
    const error = await store.putBlob('keep', 'x', 'ours').catch((e: unknown) => e);
    env.proxy.responseHeaders = (_req, h) => h;
    expect(VmkitError.is(error, 'CORRUPT')).toBe(true);
    expect((error as VmkitError).details).toMatchObject({ removed: false });
    expect((error as Error).message).toMatch(/left in place/);
    expect(await (await store.getBlob('keep', 'x'))?.text()).toBe('ours');
  });

  it('avoids the aws-chunked trap: the SDK default mode breaks streamed PUTs here, the store does not', async () => {
    // The SDK's default checksum mode frames a streamed body as aws-chunked with a trailer,
    // which this server refuses (others store the framing as content).
    const defaults = withoutNodeVersionWarning(
      () =>
        new S3Client({
          endpoint: env.server.endpoint,
          region: 'us-east-1',
          forcePathStyle: true,
          credentials: env.server.credentials,
        }),
    );
    try {
      const body = Readable.from([Buffer.alloc(200_000, 7)]);
      await expect(
        defaults.send(
          new PutObjectCommand({ Bucket: env.bucket, Key: 'raw/trap', Body: body, ContentLength: 200_000 }),
        ),
      ).rejects.toThrow();
      // Handed that same default client, the store still round-trips byte for byte: it never
      // sends a stream as one request, and checks what the server stored against MD5 digests.
      await using store = s3BlobStore({ bucket: env.bucket, client: defaults });
      await store.createContainer('trap');
      for (const size of [200_000, 11 * MIB + 3]) {
        const source = pseudoRandomStream(size, size);
        await store.putBlob('trap', `s${size}`, source.stream);
        const back = createHash('sha256')
          .update(Buffer.from((await (await store.getBlob('trap', `s${size}`))?.bytes()) ?? []))
          .digest('hex');
        expect(back).toBe(source.sha256());
      }
    } finally {
      defaults.destroy();
    }
    await using own = s3BlobStore(testStoreOptions(env.server, env.bucket));
    expect(await own.client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await own.client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
  });
});
