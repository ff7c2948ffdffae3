import { VmkitError } from '@vmkit/core';
import { describe, expect, it } from 'vitest';
import { s3BlobStore } from './s3-blob-store.js';
import { useProxiedS3Server } from './testing/proxied-server.js';
import { testStoreOptions } from './testing/test-store.js';

const MIB = 1024 * 1024;

// The server carries out a write, then the connection breaks before its answer arrives: the SDK
// retries, and the retry fails (412 for ifNoneMatch, no such upload for a Complete) although the
// bytes at the key are ours. The store must report success then, and only then.
describe('S3 blob store: writes whose answer was lost', () => {
  const env = useProxiedS3Server();
  const store = () =>
    s3BlobStore({
      ...testStoreOptions(env.server, env.bucket),
      endpoint: env.proxy.endpoint,
      partSize: 5 * MIB,
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
    });
  /** Loses the answer to the first request matching, once. */
  const loseFirst = (match: (method: string, url: string) => boolean) => {
    let armed = true;
    env.proxy.inject = (req) => {
      if (!armed || !match(req.method ?? '', req.url ?? '')) return undefined;
      armed = false;
      return 'lose-answer';
    };
  };
  const big = Buffer.alloc(9 * MIB, 3);
  const isComplete = (method: string, url: string) => method === 'POST' && url.includes('uploadId=');

  it.each([
    [
      'a single PUT with ifNoneMatch',
      'once',
      'mine',
      (m: string, u: string) => m === 'PUT' && u.includes('/lost/once'),
    ],
    ['a multipart upload (Complete retried: no such upload)', 'mp', big, isComplete],
    ['a multipart upload with ifNoneMatch (Complete retried: 412)', 'mp-once', big, isComplete],
  ] as const)('%s succeeds, and the blob is there', async (_, name, body, match) => {
    await using s = store();
    await s.createContainer('lost');
    loseFirst(match);
    const ifNoneMatch = name === 'mp' ? undefined : ('*' as const);
    const before = env.proxy.requests.length;
    const result = await s.putBlob('lost', name, body, { ifNoneMatch });
    env.proxy.inject = () => undefined;
    // The write really was retried after the lost answer.
    const writes = env.proxy.requests.slice(before).filter((r) => match(r.split(' ')[0] ?? '', r));
    expect(writes.length).toBeGreaterThan(1);
    const blob = await s.getBlob('lost', name);
    expect(result.etag).toBe(blob?.etag);
    expect(Buffer.from((await blob?.bytes()) ?? []).equals(Buffer.from(body))).toBe(true);
  });

  it('still fails with CONFLICT when what is at the key is not ours', async () => {
    await using s = store();
    await s.createContainer('theirs');
    await s.putBlob('theirs', 'x', 'theirs');
    loseFirst((m, u) => m === 'PUT' && u.includes('/theirs/x'));
    const error = await s.putBlob('theirs', 'x', 'mine', { ifNoneMatch: '*' }).catch((e: unknown) => e);
    env.proxy.inject = () => undefined;
    expect(VmkitError.is(error, 'CONFLICT')).toBe(true);
    expect(await (await s.getBlob('theirs', 'x'))?.text()).toBe('theirs');
  });
});
