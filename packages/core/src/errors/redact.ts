import { VmkitError } from './vmkit-error.js';

/** What replaces a secret in text, URLs and errors. */
const HIDDEN = '***';
/** URLs in free text: a scheme, `://`, then anything up to whitespace, a quote or a bracket. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
/** Secrets that travel outside URLs: signatures, credentials, tokens, auth headers, XML passwords. */
const SECRET_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(Signature|Credential|X-Amz-Security-Token|SignatureProvided)(=|:\s*)[^\s,&"'<]+/gi, `$1$2${HIDDEN}`],
  [
    /\b(authorization|proxy-authorization|cookie|set-cookie|x-amz-security-token)(\s*:\s*)[^\r\n]+/gi,
    `$1$2${HIDDEN}`,
  ],
  [/<(password|secret|SignatureProvided|StringToSign|CanonicalRequest)>[^<]*<\/\1>/gi, `<$1>${HIDDEN}</$1>`],
];
/** Own properties of an error copied by {@link scrubError} (when they hold a string, number or boolean). */
const KEPT_PROPERTIES = [
  'code',
  'errno',
  'syscall',
  'address',
  'port',
  'Code',
  '$fault',
  'status',
  'statusCode',
] as const;
/** Primitive fields of an AWS SDK error's `$metadata` that {@link scrubError} keeps. */
const KEPT_METADATA = [
  'httpStatusCode',
  'requestId',
  'extendedRequestId',
  'cfId',
  'attempts',
  'totalRetryDelay',
];
/** How deep {@link scrubError} follows `cause` chains. */
const MAX_DEPTH = 8;

/**
 * A URL fit for messages and logs: its userinfo (`user:password@`) becomes `***@`, the value of
 * every query parameter `***` (signed URLs carry their tokens there) and the fragment is dropped;
 * scheme, host, port and path stay. Text that is not a URL comes back with {@link redactText}
 * applied.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return redactText(String(url));
  }
  if (parsed.username || parsed.password) {
    parsed.username = HIDDEN;
    parsed.password = '';
  }
  for (const key of new Set(parsed.searchParams.keys())) parsed.searchParams.set(key, HIDDEN);
  parsed.hash = '';
  return parsed.href;
}

/**
 * Text fit for messages and logs: every URL in it redacted as {@link redactUrl} does, and
 * request signatures, credentials, security tokens, `Authorization`/`Cookie` header values and
 * XML `<password>`-like elements replaced by `***`.
 */
export function redactText(text: string): string {
  let out = text.replace(URL_IN_TEXT, (match) => redactUrlInText(match));
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function redactUrlInText(match: string): string {
  // A URL at the end of a sentence keeps its closing punctuation outside.
  const trail = /[.,;:)\]]+$/.exec(match)?.[0] ?? '';
  const url = match.slice(0, match.length - trail.length);
  if (URL.canParse(url)) return redactUrl(url) + trail;
  // Not parseable as a whole: hide anything that looks like userinfo or a query.
  return url.replace(/\/\/[^/@]*@/, `//${HIDDEN}@`).replace(/\?.*$/, `?${HIDDEN}`) + trail;
}

/** Options of {@link scrubError}. */
export interface ScrubErrorOptions {
  /**
   * Dotted paths of further fields, of the error and of each error down its `cause` chain, that
   * hold no secret and that callers read (a SOAP client's parsed fault,
   * `'root.Envelope.Body.Fault'`, say). Each is copied to the same path of the copy as plain data
   * (a JSON round trip: no functions, prototypes or cycles, strings through {@link redactText});
   * a path that is missing or cannot be copied so is left out.
   */
  readonly keep?: readonly string[];
}

/**
 * Scrubs an error for use as the `cause` of a `VmkitError` raised by a transport (S3, HTTP
 * downloads, ssh, SOAP), or for passing on: the result carries no secret and no request or
 * response object, at any depth of its `cause` chain (and an `AggregateError`'s `errors`).
 *
 * - An error that is not a `VmkitError` becomes a copy that keeps its name, its message and stack
 *   (both through {@link redactText}), the primitive `code`, `errno`, `syscall`, `address`, `port`,
 *   `status`, `statusCode`, `Code`, `$fault` and `$metadata` fields, and the fields named in
 *   `options.keep`; everything else (`$response`, `request`, `config`, `credentials`, headers,
 *   bodies, fields an S3 error copies from its XML answer such as `StringToSign` or
 *   `SignatureProvided`) is dropped.
 * - A `VmkitError` is vmkit's own: it is kept (the same object, class, code and fields), with its
 *   message, stack and string `details` redacted and its `cause` replaced by a scrubbed copy.
 * - Anything not an object becomes an `Error` of its redacted text.
 */
export function scrubError(error: VmkitError, options?: ScrubErrorOptions): VmkitError;
export function scrubError(error: unknown, options?: ScrubErrorOptions): Error;
export function scrubError(error: unknown, options: ScrubErrorOptions = {}): Error {
  return scrub(
    error,
    0,
    (options.keep ?? []).map((path) => path.split('.')),
  );
}

function scrub(error: unknown, depth: number, keep: readonly (readonly string[])[]): Error {
  if (typeof error !== 'object' || error === null) return new Error(redactText(String(error)));
  const cause = (error as { cause?: unknown }).cause;
  const scrubbedCause = cause === undefined || depth >= MAX_DEPTH ? undefined : scrub(cause, depth + 1, keep);
  if (VmkitError.is(error)) {
    const same = scrubInPlace(error, scrubbedCause);
    if (same) return same;
  }
  const source = error as Error & Record<string, unknown>;
  const message = redactText(typeof source.message === 'string' ? source.message : String(error));
  const made: Error = VmkitError.is(error)
    ? new VmkitError(error.code, message, {
        details: redactDetails(error.details),
        retryable: error.retryable,
        fault: error.fault,
        ...(scrubbedCause ? { cause: scrubbedCause } : {}),
      })
    : new Error(message, scrubbedCause ? { cause: scrubbedCause } : undefined);
  const copy = made as Error & Record<string, unknown>;
  copy.name = typeof source.name === 'string' ? source.name : 'Error';
  copy.stack = typeof source.stack === 'string' ? redactText(source.stack) : `${copy.name}: ${message}`;
  for (const key of KEPT_PROPERTIES) {
    const value = source[key];
    if (typeof value === 'string') copy[key] = redactText(value);
    else if (typeof value === 'number' || typeof value === 'boolean') copy[key] = value;
  }
  const metadata = source.$metadata;
  if (typeof metadata === 'object' && metadata !== null) {
    const kept: Record<string, unknown> = {};
    for (const key of KEPT_METADATA) {
      const value = (metadata as Record<string, unknown>)[key];
      if (typeof value === 'string' || typeof value === 'number') kept[key] = value;
    }
    copy.$metadata = kept;
  }
  for (const path of keep) copyPlain(source, copy, path);
  if (Array.isArray(source.errors) && depth < MAX_DEPTH)
    copy.errors = source.errors.slice(0, 16).map((e: unknown) => scrub(e, depth + 1, keep));
  return copy;
}

/** Redacts a VmkitError where it stands; undefined when it cannot be changed (frozen), to be copied. */
function scrubInPlace(error: VmkitError, cause: Error | undefined): VmkitError | undefined {
  const set = (key: string, value: unknown) =>
    Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: false });
  try {
    set('message', redactText(error.message));
    if (typeof error.stack === 'string') set('stack', redactText(error.stack));
    Object.defineProperty(error, 'details', {
      value: Object.freeze(redactDetails(error.details)),
      writable: true,
      configurable: true,
      enumerable: true,
    });
    if (cause !== undefined) set('cause', cause);
    return error;
  } catch {
    return undefined;
  }
}

/** Copies the value at `path` of `from` to the same path of `to` as plain, redacted data. */
function copyPlain(
  from: Record<string, unknown>,
  to: Record<string, unknown>,
  path: readonly string[],
): void {
  let value: unknown = from;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return;
    value = (value as Record<string, unknown>)[key];
  }
  let plain: unknown;
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return;
    plain = JSON.parse(json, (_key, v: unknown) => (typeof v === 'string' ? redactText(v) : v));
  } catch {
    return;
  }
  let target = to;
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(target, key) ? target[key] : undefined;
    if (typeof next !== 'object' || next === null) target[key] = {};
    target = target[key] as Record<string, unknown>;
  }
  target[path[path.length - 1] as string] = plain;
}

function redactDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details))
    out[key] = typeof value === 'string' ? redactText(value) : value;
  return out;
}
