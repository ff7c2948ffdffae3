import type { S3Client } from '@aws-sdk/client-s3';
import { integerOption, invalidArgument } from '@vmkit/core/spi';

/** Access keys for an S3 endpoint. */
export interface S3Credentials {
  /** Access key id. */
  readonly accessKeyId: string;
  /** Secret access key. */
  readonly secretAccessKey: string;
  /** Session token of temporary credentials. */
  readonly sessionToken?: string;
}

/** How the store retries transient faults (network errors, 5xx, throttling). */
export interface S3RetryOptions {
  /** Attempts per request, the first included: 1-10 (default 4). */
  readonly maxAttempts?: number;
  /** First back-off delay in ms; doubles per retry, with full jitter (default 100). */
  readonly baseDelayMs?: number;
  /** Ceiling of one back-off delay in ms (default 5,000). */
  readonly maxDelayMs?: number;
}

/** Options of {@link s3BlobStore}. */
export interface S3BlobStoreOptions {
  /** The bucket; it must exist. */
  readonly bucket: string;
  /** Key prefix under which containers live, e.g. `vmkit/` (default none). Ends with `/` when set. */
  readonly prefix?: string;
  /**
   * A ready client. When given, `region`, `endpoint`, `forcePathStyle`, `credentials`, `retry`
   * and `timeouts` are not used: configure the client yourself (for a non-AWS endpoint set
   * `requestChecksumCalculation` and `responseChecksumValidation` to `'WHEN_REQUIRED'`).
   * The store does not destroy a client it was given.
   */
  readonly client?: S3Client;
  /** Region (default `AWS_REGION` from the environment, else `us-east-1`). */
  readonly region?: string;
  /** Endpoint of an S3-compatible server, e.g. `http://127.0.0.1:9000`. */
  readonly endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible servers. */
  readonly forcePathStyle?: boolean;
  /** Credentials (default: the SDK's provider chain: environment, profile, instance role...). */
  readonly credentials?: S3Credentials;
  /** Retries of transient faults. */
  readonly retry?: S3RetryOptions;
  /** Socket timeouts in ms: connecting (default 10,000) and idle (default 120,000). */
  readonly timeouts?: { readonly connectMs?: number; readonly idleMs?: number };
  /** Multipart part size in bytes, 5 MiB-512 MiB (default 8 MiB). Bodies below it go in one PUT. */
  readonly partSize?: number;
  /**
   * Parts uploaded at once per blob, 1-16 (default 4). A streamed body goes through `queueSize`
   * reused part buffers: memory per upload is about `partSize * queueSize`.
   */
  readonly queueSize?: number;
  /**
   * Conditional puts (`ifNoneMatch: '*'`): `'auto'` (default) probes once whether the server
   * honours `If-None-Match` and fails with `UNSUPPORTED` if it does not; `'native'` trusts the
   * server; `'unsupported'` always fails with `UNSUPPORTED`.
   */
  readonly conditionalWrites?: 'auto' | 'native' | 'unsupported';
  /** Maximum concurrent requests of one `deleteContainer` (default 8). */
  readonly concurrency?: number;
}

/** {@link S3BlobStoreOptions} validated, with defaults applied. */
export interface ResolvedS3BlobStoreOptions {
  /** The bucket. */
  readonly bucket: string;
  /** Key prefix, `''` or ending with `/`. */
  readonly prefix: string;
  /** A client given by the caller, if any. */
  readonly client?: S3Client;
  /** Region. */
  readonly region: string;
  /** Endpoint of an S3-compatible server, if any. */
  readonly endpoint?: string;
  /** Path-style addressing. */
  readonly forcePathStyle: boolean;
  /** Static credentials, if given. */
  readonly credentials?: S3Credentials;
  /** Retry policy. */
  readonly retry: Required<S3RetryOptions>;
  /** Socket timeouts in ms. */
  readonly timeouts: { readonly connectMs: number; readonly idleMs: number };
  /** Multipart part size in bytes. */
  readonly partSize: number;
  /** Parts in flight per upload. */
  readonly queueSize: number;
  /** Conditional put mode. */
  readonly conditionalWrites: 'auto' | 'native' | 'unsupported';
  /** Concurrency of bulk operations. */
  readonly concurrency: number;
}

const MIB = 1024 * 1024;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const int = (field: string, value: unknown, min: number, max: number, fallback: number): number =>
  integerOption(field, value, fallback, { min, max });

/** Validates {@link S3BlobStoreOptions} eagerly, naming the bad option, and freezes the result. */
export function resolveS3BlobStoreOptions(options: S3BlobStoreOptions): ResolvedS3BlobStoreOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'must be an object');
  const { bucket, prefix = '', endpoint, credentials } = options;
  if (typeof bucket !== 'string' || !BUCKET.test(bucket) || bucket.includes('..')) {
    throw invalidArgument(
      'bucket',
      `must be an S3 bucket name: 3-63 of a-z, 0-9, '.', '-' (got ${JSON.stringify(bucket)})`,
    );
  }
  if (
    typeof prefix !== 'string' ||
    prefix.length > 512 ||
    (prefix !== '' && !prefix.endsWith('/')) ||
    prefix.startsWith('/') ||
    prefix
      .split('/')
      .slice(0, -1)
      .some((s) => s === '' || s === '.' || s === '..') ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to reject them
    /[\u0000-\u001f\u007f\\]/.test(prefix)
  ) {
    throw invalidArgument(
      'prefix',
      `must be empty or '/'-separated segments ending with '/', none empty, '.' or '..' (got ${JSON.stringify(prefix)})`,
    );
  }
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw invalidArgument('endpoint', `must be an http(s) URL (got ${JSON.stringify(endpoint)})`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw invalidArgument('endpoint', `must be an http(s) URL (got ${JSON.stringify(endpoint)})`);
    }
  }
  if (
    credentials !== undefined &&
    (typeof credentials.accessKeyId !== 'string' ||
      credentials.accessKeyId === '' ||
      typeof credentials.secretAccessKey !== 'string')
  ) {
    throw invalidArgument('credentials', 'must have a non-empty accessKeyId and a secretAccessKey');
  }
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  if (typeof region !== 'string' || !/^[a-z0-9-]{1,64}$/.test(region)) {
    throw invalidArgument(
      'region',
      `must be a region name such as us-east-1 (got ${JSON.stringify(region)})`,
    );
  }
  const conditionalWrites = options.conditionalWrites ?? 'auto';
  if (!['auto', 'native', 'unsupported'].includes(conditionalWrites)) {
    throw invalidArgument('conditionalWrites', `must be 'auto', 'native' or 'unsupported'`);
  }
  const maxAttempts = int('retry.maxAttempts', options.retry?.maxAttempts, 1, 10, 4);
  const baseDelayMs = int('retry.baseDelayMs', options.retry?.baseDelayMs, 1, 60_000, 100);
  const maxDelayMs = int(
    'retry.maxDelayMs',
    options.retry?.maxDelayMs,
    baseDelayMs,
    300_000,
    Math.max(5_000, baseDelayMs),
  );
  return Object.freeze({
    bucket,
    prefix,
    client: options.client,
    region,
    endpoint,
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    credentials: credentials && Object.freeze({ ...credentials }),
    retry: Object.freeze({ maxAttempts, baseDelayMs, maxDelayMs }),
    timeouts: Object.freeze({
      connectMs: int('timeouts.connectMs', options.timeouts?.connectMs, 1, 600_000, 10_000),
      idleMs: int('timeouts.idleMs', options.timeouts?.idleMs, 1, 3_600_000, 120_000),
    }),
    partSize: int('partSize', options.partSize, 5 * MIB, 512 * MIB, 8 * MIB),
    queueSize: int('queueSize', options.queueSize, 1, 16, 4),
    conditionalWrites,
    concurrency: int('concurrency', options.concurrency, 1, 64, 8),
  });
}
