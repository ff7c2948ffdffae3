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
const KEPT_PROPERTIES = ['code', 'errno', 'syscall', 'Code', '$fault', 'status', 'statusCode'] as const;
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

/**
 * A copy of an error (and its `cause` chain, and an `AggregateError`'s `errors`) that carries no
 * secret and no request or response object, for use as the `cause` of a `VmkitError` raised by a
 * transport (S3, HTTP downloads, ssh, SOAP). The copy keeps the name, the message and the stack
 * (both through {@link redactText}), and the primitive `code`, `errno`, `syscall`, `status`,
 * `statusCode`, `$fault` and `$metadata` fields; everything else (`$response`, `request`,
 * `config`, `credentials`, headers, bodies, fields an S3 error copies from its XML answer such as
 * `StringToSign` or `SignatureProvided`) is dropped. A `VmkitError` stays a `VmkitError` of the
 * same code, with its `details`' strings redacted. Anything not an object becomes an `Error`.
 */
export function scrubError(error: unknown): Error {
  return scrub(error, 0);
}

function scrub(error: unknown, depth: number): Error {
  if (typeof error !== 'object' || error === null) return new Error(redactText(String(error)));
  const source = error as Error & Record<string, unknown>;
  const message = redactText(typeof source.message === 'string' ? source.message : String(error));
  const cause = source.cause === undefined || depth >= MAX_DEPTH ? undefined : scrub(source.cause, depth + 1);
  const made: Error = VmkitError.is(error)
    ? new VmkitError(error.code, message, {
        details: redactDetails(error.details),
        retryable: error.retryable,
        fault: error.fault,
        ...(cause ? { cause } : {}),
      })
    : new Error(message, cause ? { cause } : undefined);
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
  if (Array.isArray(source.errors) && depth < MAX_DEPTH)
    copy.errors = source.errors.slice(0, 16).map((e: unknown) => scrub(e, depth + 1));
  return copy;
}

function redactDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details))
    out[key] = typeof value === 'string' ? redactText(value) : value;
  return out;
}
