import { VmkitError } from '@vmkit/core';
import { describe, expect, it } from 'vitest';
import { resolveS3BlobStoreOptions } from './s3-blob-store-options.js';

const bad = (options: Record<string, unknown>, field: string) => {
  const error = (() => {
    try {
      resolveS3BlobStoreOptions(options as never);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  expect(VmkitError.is(error, 'INVALID_ARGUMENT'), `${JSON.stringify(options)}`).toBe(true);
  expect((error as Error).message.startsWith(`${field}:`)).toBe(true);
};

describe('resolveS3BlobStoreOptions', () => {
  it('applies defaults and freezes', () => {
    const r = resolveS3BlobStoreOptions({ bucket: 'my-bucket', endpoint: 'http://127.0.0.1:9000' });
    expect(r).toMatchObject({
      bucket: 'my-bucket',
      prefix: '',
      forcePathStyle: true,
      partSize: 8 * 1024 * 1024,
      queueSize: 4,
      conditionalWrites: 'auto',
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 5000 },
    });
    expect(Object.isFrozen(r)).toBe(true);
    expect(resolveS3BlobStoreOptions({ bucket: 'b-b', region: 'eu-west-1' }).forcePathStyle).toBe(false);
  });

  it('names the bad option and the rule', () => {
    bad({ bucket: 'UPPER' }, 'bucket');
    bad({ bucket: 'a..b' }, 'bucket');
    bad({ bucket: 'ok-bucket', prefix: 'no-slash' }, 'prefix');
    bad({ bucket: 'ok-bucket', prefix: '/abs/' }, 'prefix');
    bad({ bucket: 'ok-bucket', prefix: 'a/../' }, 'prefix');
    bad({ bucket: 'ok-bucket', prefix: 'a//' }, 'prefix');
    bad({ bucket: 'ok-bucket', endpoint: 'ftp://x' }, 'endpoint');
    bad({ bucket: 'ok-bucket', endpoint: 'not a url' }, 'endpoint');
    bad({ bucket: 'ok-bucket', partSize: 1024 }, 'partSize');
    bad({ bucket: 'ok-bucket', queueSize: 0 }, 'queueSize');
    bad({ bucket: 'ok-bucket', retry: { maxAttempts: 11 } }, 'retry.maxAttempts');
    bad({ bucket: 'ok-bucket', credentials: { accessKeyId: '' } }, 'credentials');
    bad({ bucket: 'ok-bucket', conditionalWrites: 'maybe' }, 'conditionalWrites');
    bad({ bucket: 'ok-bucket', region: 'Not A Region' }, 'region');
  });
});
