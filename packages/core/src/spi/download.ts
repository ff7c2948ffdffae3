import { pipeline, Readable, Transform } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { redactUrl, scrubError } from '../errors/redact.js';
import { invalidArgument, isAbortError, VmkitError } from '../errors/vmkit-error.js';

/** The most bytes a download may bring when its caller sets no limit: 64 GiB. */
export const DEFAULT_DOWNLOAD_MAX_BYTES = 64 * 1024 ** 3;
/** The most redirects a download follows when its caller sets no limit. */
export const DEFAULT_MAX_REDIRECTS = 5;

/** Options of {@link openDownload} and `downloadFile`. */
export interface DownloadOptions {
  /** The field that gave the URL, named in errors (e.g. `source.url`). */
  readonly field: string;
  /** The most bytes the body may have (default {@link DEFAULT_DOWNLOAD_MAX_BYTES}). */
  readonly maxBytes?: number;
  /** The option that set `maxBytes`, named when it is exceeded (default `maxBytes`). */
  readonly maxBytesField?: string;
  /** The most redirects followed (default {@link DEFAULT_MAX_REDIRECTS}). */
  readonly maxRedirects?: number;
  /** `HEAD` only asks for the length; the default is `GET`. */
  readonly method?: 'GET' | 'HEAD';
  readonly signal?: AbortSignal;
}

/** An answer of {@link openDownload}: the body, bounded, and what the server said of it. */
export interface OpenedDownload {
  /** The URL that answered (after redirects), redacted for messages. */
  readonly url: string;
  /** Its `Content-Length`, when it sent one (never trusted: the body is counted). */
  readonly length?: number;
  /** The body (empty for `HEAD`); fails with `INVALID_ARGUMENT` once it passes `maxBytes`. */
  readonly body: Readable;
}

/**
 * Opens an `http:` or `https:` URL for reading under vmkit's download rules, the one place vmkit's
 * packages fetch URLs (master sources, import sources):
 *
 * - redirects are followed by hand, at most `maxRedirects` of them, and only to `http:` or
 *   `https:`; a redirect from `https:` to `http:` (a protocol downgrade) is refused, naming both
 *   URLs' hosts;
 * - credentials in the URL (`https://user:password@host/...`) are sent as HTTP Basic
 *   authorization to that origin only, never to the origin of a redirect;
 * - a `Content-Length` above `maxBytes` is refused before the body is read, and the body itself
 *   is counted, so a server that sends no length or a false one is stopped at `maxBytes`;
 * - every error names `field` and shows URLs redacted (no userinfo, no query values), and its
 *   `cause` is scrubbed of requests, responses and credentials (`scrubError`).
 *
 * A status other than 2xx is `NOT_FOUND` (404, 410) or `PROVIDER`; a network failure `PROVIDER`;
 * an abort `ABORTED`.
 */
export async function openDownload(url: string | URL, options: DownloadOptions): Promise<OpenedDownload> {
  const maxBytes = options.maxBytes ?? DEFAULT_DOWNLOAD_MAX_BYTES;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const { field } = options;
  let current = parseHttpUrl(url, field);
  const origin = current.origin;
  const authorization = basicAuthorization(current);
  current.username = '';
  current.password = '';
  for (let redirects = 0; ; redirects++) {
    const response = await request(current, options, current.origin === origin ? authorization : undefined);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel().catch(() => {});
      if (redirects >= maxRedirects)
        throw invalidArgument(field, `more than ${maxRedirects} redirects, starting at ${redactUrl(url)}`, {
          rule: 'max-redirects',
        });
      current = nextUrl(current, location, field);
      continue;
    }
    if (!response.ok || (options.method !== 'HEAD' && !response.body)) {
      await response.body?.cancel().catch(() => {});
      const shown = redactUrl(current);
      throw new VmkitError(
        response.status === 404 || response.status === 410 ? 'NOT_FOUND' : 'PROVIDER',
        `${field}: GET ${shown} answered HTTP ${response.status}`,
        { details: { field, status: response.status, url: shown } },
      );
    }
    const header = Number(response.headers.get('content-length') ?? Number.NaN);
    const length = Number.isSafeInteger(header) && header >= 0 ? header : undefined;
    if (length !== undefined && length > maxBytes && options.method !== 'HEAD') {
      await response.body?.cancel().catch(() => {});
      throw tooLarge(options, maxBytes, `${redactUrl(current)} announces ${length} bytes`);
    }
    const raw = response.body
      ? Readable.fromWeb(response.body as ReadableStream<Uint8Array>)
      : Readable.from([]);
    return {
      url: redactUrl(current),
      ...(length === undefined ? {} : { length }),
      // pipeline() passes a failure of either side on to the body the caller reads.
      body: pipeline(raw, byteLimit(maxBytes, options), () => {}),
    };
  }
}

function parseHttpUrl(url: string | URL, field: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw invalidArgument(field, 'must be a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw invalidArgument(field, `must be an http: or https: URL, not ${parsed.protocol}`);
  return parsed;
}

function nextUrl(from: URL, location: string, field: string): URL {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw invalidArgument(field, `${redactUrl(from)} redirected to something that is not a URL`, {
      rule: 'redirect',
    });
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:')
    throw invalidArgument(field, `${redactUrl(from)} redirected to a ${to.protocol} URL, refused`, {
      rule: 'redirect',
    });
  if (from.protocol === 'https:' && to.protocol === 'http:')
    throw invalidArgument(
      field,
      `a redirect from https://${from.host} to http://${to.host} is a protocol downgrade, refused`,
      { rule: 'https-downgrade', from: from.host, to: to.host },
    );
  return to;
}

function basicAuthorization(url: URL): string | undefined {
  if (!url.username && !url.password) return undefined;
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const pair = `${decode(url.username)}:${decode(url.password)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

async function request(
  url: URL,
  options: DownloadOptions,
  authorization: string | undefined,
): Promise<Response> {
  try {
    return await fetch(url, {
      method: options.method ?? 'GET',
      redirect: 'manual',
      ...(authorization ? { headers: { authorization } } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    const shown = redactUrl(url);
    if (isAbortError(error))
      throw new VmkitError('ABORTED', `${options.field}: download of ${shown} aborted`, {
        cause: scrubError(error),
      });
    const reason = (error as { cause?: { code?: unknown } }).cause?.code ?? (error as Error).message;
    throw new VmkitError('PROVIDER', `${options.field}: cannot download ${shown} (${String(reason)})`, {
      cause: scrubError(error),
      retryable: true,
      fault: 'environment',
      details: { field: options.field, url: shown },
    });
  }
}

function tooLarge(options: DownloadOptions, maxBytes: number, what: string): VmkitError {
  const limit = options.maxBytesField ?? 'maxBytes';
  return invalidArgument(options.field, `${what}, more than ${limit} (${maxBytes} bytes)`, {
    rule: 'max-bytes',
    maxBytes,
  });
}

/** Passes bytes through until more than `maxBytes` have come, then fails (pipeline() stops the source). */
function byteLimit(maxBytes: number, options: DownloadOptions): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > maxBytes) {
        done(tooLarge(options, maxBytes, `the download passed ${maxBytes} bytes`));
        return;
      }
      done(null, chunk);
    },
  });
}
