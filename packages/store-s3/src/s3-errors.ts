import {
  isAbortError,
  redactText,
  scrubError,
  VmkitError,
  type VmkitErrorClass,
  type VmkitErrorCode,
} from '@vmkit/core/spi';

/** What a failed S3 call was about, for error messages and details. */
export interface S3ErrorContext {
  /** The store operation, e.g. `putBlob`. */
  readonly operation: string;
  /** The bucket. */
  readonly bucket: string;
  /** The object key, when there is one. */
  readonly key?: string;
}

/** Why an S3 call failed, in `VmkitError.details.reason`. */
export type S3FailureReason =
  | 'not-found'
  | 'no-such-bucket'
  | 'precondition-failed'
  | 'access-denied'
  | 'throttled'
  | 'unreachable'
  | 'timeout'
  | 'server-error'
  | 'not-implemented'
  | 'aborted'
  | 'bad-digest'
  | 'rejected';

/**
 * Whether a retry can help and whose fault it was, per failure reason: throttling, server errors,
 * unreachable endpoints, timeouts and digests altered on the way may pass on a later try; a
 * missing bucket, denied access and missing server features are the environment's to fix.
 */
const REASON_CLASS: Readonly<Record<S3FailureReason, VmkitErrorClass>> = Object.freeze({
  'not-found': { retryable: false, fault: 'caller' },
  'no-such-bucket': { retryable: false, fault: 'environment' },
  'precondition-failed': { retryable: false, fault: 'caller' },
  'access-denied': { retryable: false, fault: 'environment' },
  throttled: { retryable: true, fault: 'service' },
  unreachable: { retryable: true, fault: 'environment' },
  timeout: { retryable: true, fault: 'environment' },
  'server-error': { retryable: true, fault: 'service' },
  'not-implemented': { retryable: false, fault: 'environment' },
  aborted: { retryable: false, fault: 'caller' },
  'bad-digest': { retryable: true, fault: 'environment' },
  rejected: { retryable: false, fault: 'caller' },
});

/** Whether a retry can help and whose fault it was, for an S3 failure reason. */
export function classifyS3Reason(reason: S3FailureReason): VmkitErrorClass {
  return REASON_CLASS[reason];
}

interface SdkErrorLike {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
}

const ACCESS = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'AccountProblem',
  'CredentialsProviderError',
]);
const THROTTLE = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);
const DIGEST = new Set(['BadDigest', 'InvalidDigest', 'XAmzContentSHA256Mismatch']);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** The S3 error code of an SDK or network error (`NoSuchKey`, `ECONNREFUSED`, ...). */
export function s3ErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as SdkErrorLike;
  return e.Code ?? e.code ?? (e.$metadata ? e.name : undefined);
}

/** The HTTP status of an SDK error, if it got a response. */
export function s3Status(error: unknown): number | undefined {
  return (error as SdkErrorLike | undefined)?.$metadata?.httpStatusCode;
}

/**
 * True when the error means the object does not exist. Not a missing bucket (`NoSuchBucket`),
 * which is an error of its own; a HEAD answer has no body, hence no code, so a 404 to a HEAD may
 * still be a missing bucket (see `checkBucket`).
 */
export function isS3NotFound(error: unknown): boolean {
  const code = s3ErrorCode(error);
  if (code === 'NoSuchBucket') return false;
  return s3Status(error) === 404 || code === 'NoSuchKey' || code === 'NotFound';
}

/** True when the error says the bucket does not exist. */
export function isNoSuchBucket(error: unknown): boolean {
  return s3ErrorCode(error) === 'NoSuchBucket';
}

function classify(error: unknown): { code: VmkitErrorCode; reason: S3FailureReason; text: string } {
  const e = (error ?? {}) as SdkErrorLike;
  const code = s3ErrorCode(error) ?? '';
  const status = s3Status(error);
  const nested = (error as { cause?: SdkErrorLike } | undefined)?.cause;
  const netCode = NETWORK.has(code) ? code : NETWORK.has(nested?.code ?? '') ? nested?.code : undefined;
  if (e.name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'RequestTimeout')
    return { code: 'TIMEOUT', reason: 'timeout', text: 'timed out' };
  if (isAbortError(error)) return { code: 'ABORTED', reason: 'aborted', text: 'aborted' };
  if (code === 'NoSuchBucket')
    return { code: 'NOT_FOUND', reason: 'no-such-bucket', text: 'the bucket does not exist' };
  if (isS3NotFound(error)) return { code: 'NOT_FOUND', reason: 'not-found', text: 'not found' };
  if (DIGEST.has(code))
    return {
      code: 'CORRUPT',
      reason: 'bad-digest',
      text: 'the bytes the server received do not match their digest (altered on the way)',
    };
  if (status === 412 || code === 'PreconditionFailed' || code === 'ConditionalRequestConflict')
    return {
      code: 'CONFLICT',
      reason: 'precondition-failed',
      text: 'a precondition failed (the object exists or changed)',
    };
  if (status === 403 || ACCESS.has(code))
    return { code: 'STORE', reason: 'access-denied', text: 'access denied' };
  if (status === 429 || THROTTLE.has(code) || (status === 503 && code !== 'ServiceUnavailable'))
    return { code: 'STORE', reason: 'throttled', text: 'throttled by the server (retries exhausted)' };
  if (status === 501 || code === 'NotImplemented')
    return { code: 'UNSUPPORTED', reason: 'not-implemented', text: 'not implemented by the server' };
  if (netCode)
    return { code: 'STORE', reason: 'unreachable', text: `the endpoint is unreachable (${netCode})` };
  if (status !== undefined && status >= 500)
    return { code: 'STORE', reason: 'server-error', text: 'server error' };
  if (status !== undefined) return { code: 'STORE', reason: 'rejected', text: 'the request was rejected' };
  return { code: 'STORE', reason: 'unreachable', text: 'the request failed without a response' };
}

/**
 * Maps any error of an S3 call to a `VmkitError`: vmkit errors pass through; the S3 code,
 * HTTP status, request id and attempts go in `details`, a scrubbed copy of the original error in
 * `cause` (`scrubError`: its name, message, code and `$metadata`, but not the SDK's `$response`,
 * the request, credentials, nor what S3 echoes of a signed request such as `SignatureProvided`,
 * `StringToSign` or `CanonicalRequest`); `retryable` and `fault` follow the failure reason (see
 * `classifyS3Reason`).
 */
export function toS3StoreError(error: unknown, context: S3ErrorContext): VmkitError {
  if (VmkitError.is(error)) return error;
  const { code, reason, text } = classify(error);
  const e = (error ?? {}) as SdkErrorLike;
  const s3Code = s3ErrorCode(error);
  const status = s3Status(error);
  const where = context.key === undefined ? context.bucket : `${context.bucket}/${context.key}`;
  const facts = [s3Code, status === undefined ? undefined : `HTTP ${status}`].filter(Boolean).join(', ');
  const detail = e.message && e.message !== s3Code ? `: ${redactText(e.message)}` : '';
  return new VmkitError(
    code,
    `S3 ${context.operation} ${where}: ${text}${facts ? ` (${facts})` : ''}${detail}`,
    {
      cause: scrubError(error),
      ...classifyS3Reason(reason),
      details: {
        ...context,
        reason,
        s3Code,
        status,
        requestId: e.$metadata?.requestId,
        attempts: e.$metadata?.attempts,
      },
    },
  );
}
