import { VmkitError } from '@vmkit/core';
import { describe, expect, it } from 'vitest';
import { isS3NotFound, toS3StoreError } from './s3-errors.js';

const sdkError = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status, requestId: 'r1', attempts: 2 },
    ...extra,
  });
const ctx = { operation: 'getBlob', bucket: 'bkt', key: 'c/x' };

describe('toS3StoreError', () => {
  it.each([
    [sdkError('NoSuchKey', 404), 'NOT_FOUND', 'not-found', false, 'caller'],
    [sdkError('NoSuchBucket', 404), 'NOT_FOUND', 'no-such-bucket', false, 'environment'],
    [sdkError('PreconditionFailed', 412), 'CONFLICT', 'precondition-failed', false, 'caller'],
    [sdkError('AccessDenied', 403), 'STORE', 'access-denied', false, 'environment'],
    [sdkError('InvalidAccessKeyId', 403), 'STORE', 'access-denied', false, 'environment'],
    [sdkError('SlowDown', 503), 'STORE', 'throttled', true, 'service'],
    [sdkError('ThrottlingException', 400), 'STORE', 'throttled', true, 'service'],
    [sdkError('NotImplemented', 501), 'UNSUPPORTED', 'not-implemented', false, 'environment'],
    [sdkError('InternalError', 500), 'STORE', 'server-error', true, 'service'],
    [sdkError('InvalidArgument', 400), 'STORE', 'rejected', false, 'caller'],
    [sdkError('BadDigest', 400), 'CORRUPT', 'bad-digest', true, 'environment'],
    [sdkError('InvalidDigest', 400), 'CORRUPT', 'bad-digest', true, 'environment'],
    [sdkError('XAmzContentSHA256Mismatch', 400), 'CORRUPT', 'bad-digest', true, 'environment'],
    [
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'STORE',
      'unreachable',
      true,
      'environment',
    ],
    [Object.assign(new Error('t'), { name: 'TimeoutError' }), 'TIMEOUT', 'timeout', true, 'environment'],
    [Object.assign(new Error('a'), { name: 'AbortError' }), 'ABORTED', 'aborted', false, 'caller'],
  ])('maps %s', (error, code, reason, retryable, fault) => {
    const mapped = toS3StoreError(error, ctx);
    expect(mapped.code).toBe(code);
    expect(mapped.details.reason).toBe(reason);
    expect(mapped.retryable).toBe(retryable);
    expect(mapped.fault).toBe(fault);
    // The cause is a scrubbed copy (scrubError): the same name and message, no request or response.
    expect(mapped.cause).toMatchObject({ name: error.name, message: error.message });
    expect(mapped.message).toMatch(/^S3 getBlob bkt\/c\/x: /);
  });

  it('keeps the S3 code, status, request id and attempts', () => {
    const mapped = toS3StoreError(sdkError('SlowDown', 503), ctx);
    expect(mapped.details).toMatchObject({
      s3Code: 'SlowDown',
      status: 503,
      requestId: 'r1',
      attempts: 2,
      bucket: 'bkt',
    });
    expect(mapped.message).toContain('(SlowDown, HTTP 503)');
  });

  it('passes vmkit errors through', () => {
    const original = new VmkitError('CORRUPT', 'x');
    expect(toS3StoreError(original, ctx)).toBe(original);
  });

  it('does not take a missing bucket for a missing object', () => {
    expect(isS3NotFound(sdkError('NoSuchBucket', 404))).toBe(false);
    expect(isS3NotFound(sdkError('NoSuchKey', 404))).toBe(true);
    expect(isS3NotFound(sdkError('NotFound', 404))).toBe(true);
  });
});
