import { inspect } from 'node:util';
import { VmkitError } from '@vmkit/core';
import { describe, expect, it } from 'vitest';
import { s3BlobStore } from './s3-blob-store.js';
import { useProxiedS3Server } from './testing/proxied-server.js';
import { testStoreOptions } from './testing/test-store.js';

const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';
const everything = (error: unknown) =>
  `${inspect(error, { depth: Infinity })}\n${inspect(error, { depth: Infinity, showHidden: true })}\n${JSON.stringify(error)}`;

// Errors out of the store as a caller prints them (console.error, a logger, JSON): no secret
// access key, no request signature, no echo of the signed request.
describe('S3 blob store: errors carry no credentials', () => {
  const env = useProxiedS3Server();

  it('a signature refusal that echoes the signed request shows neither the signature nor the secret', async () => {
    await using store = s3BlobStore({
      ...testStoreOptions(env.server, env.bucket),
      endpoint: env.proxy.endpoint,
      credentials: { accessKeyId: env.server.credentials.accessKeyId, secretAccessKey: SECRET },
      retry: { maxAttempts: 1 },
    });
    await store.createContainer('sig');
    let signature = '';
    // As AWS answers a bad signature: SignatureProvided, StringToSign and CanonicalRequest echoed.
    env.proxy.inject = (req) => {
      signature = /Signature=([0-9a-f]+)/.exec(String(req.headers.authorization))?.[1] ?? '';
      return {
        status: 403,
        code: 'SignatureDoesNotMatch',
        fields: {
          AWSAccessKeyId: env.server.credentials.accessKeyId,
          SignatureProvided: signature,
          StringToSign: `AWS4-HMAC-SHA256\n20250101T000000Z\n${signature}`,
          CanonicalRequest: `GET /${env.bucket}/sig/x\nauthorization:${String(req.headers.authorization)}`,
        },
      };
    };
    const error = await store.getBlob('sig', 'x').catch((e: unknown) => e);
    env.proxy.inject = () => undefined;
    expect(VmkitError.is(error, 'STORE')).toBe(true);
    expect((error as VmkitError).details).toMatchObject({
      reason: 'access-denied',
      s3Code: 'SignatureDoesNotMatch',
    });
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    const text = everything(error);
    expect(text).toContain('SignatureDoesNotMatch');
    expect(text).not.toContain(signature);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('StringToSign');
  });

  it('a refused write and a broken connection show no secret', async () => {
    await using store = s3BlobStore({
      ...testStoreOptions(env.server, env.bucket),
      endpoint: env.proxy.endpoint,
      credentials: { accessKeyId: 'AKIDWRONGKEY', secretAccessKey: SECRET },
      retry: { maxAttempts: 1 },
    });
    for (const fault of [{ status: 403, code: 'InvalidAccessKeyId' }, 'reset'] as const) {
      env.proxy.inject = () => fault;
      const error = await store.putBlob('any', 'x', 'content').catch((e: unknown) => e);
      env.proxy.inject = () => undefined;
      expect(VmkitError.is(error)).toBe(true);
      const text = everything(error);
      expect(text).not.toContain(SECRET);
      expect(text).not.toMatch(/Signature=[0-9a-f]{16}/);
    }
  });
});
