import { invalidArgument } from '@vmkit/core/spi';

/** User metadata key holding the multipart part size, so reads can check multipart ETags. */
export const PART_SIZE_KEY = 'vmkit-part-size';

// Values travel as HTTP headers: printable ASCII without surrounding blanks goes as is, anything
// else (and anything that looks like an encoded word) as an RFC 2047 encoded word.
const PLAIN = /^(?!=\?)[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;
const ENCODED = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/;

/** Encodes user metadata for `x-amz-meta-*` headers, adding the store's own keys. */
export function encodeMetadata(
  metadata: Readonly<Record<string, string>> | undefined,
  internal: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (key === PART_SIZE_KEY) throw invalidArgument(`metadata.${key}`, 'is reserved by the S3 store');
    out[key] =
      value === '' || PLAIN.test(value)
        ? value
        : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
  }
  return { ...out, ...internal };
}

/** Decodes metadata read back from S3, splitting off the store's own keys. */
export function decodeMetadata(raw: Readonly<Record<string, string>> | undefined): {
  metadata: Readonly<Record<string, string>>;
  partSize?: number;
} {
  const metadata: Record<string, string> = {};
  let partSize: number | undefined;
  for (const [rawKey, value] of Object.entries(raw ?? {})) {
    const key = rawKey.toLowerCase();
    if (key === PART_SIZE_KEY) {
      const n = Number(value);
      if (Number.isSafeInteger(n) && n > 0) partSize = n;
      continue;
    }
    const encoded = ENCODED.exec(value);
    metadata[key] = encoded ? Buffer.from(encoded[1] ?? '', 'base64').toString('utf8') : value;
  }
  return { metadata: Object.freeze(metadata), partSize };
}
