import { invalidArgument } from '../errors/vmkit-error.js';

/** One segment of a credential key: no `.`/`..`, nothing that starts with a dot (temporary files do). */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;
/** Longest key accepted. */
const MAX_KEY_LENGTH = 255;

/**
 * Checks a credential key: `/`-separated segments of `[A-Za-z0-9._-]`, none empty, none starting
 * with a dot (so no `.`, `..` or hidden file), at most 255 characters. Throws `INVALID_ARGUMENT`
 * naming `field`; the key itself is no secret and is named too.
 */
export function checkCredentialKey(key: unknown, field = 'key'): string[] {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH)
    throw invalidArgument(field, `must be a string of 1-${MAX_KEY_LENGTH} characters`);
  const segments = key.split('/');
  for (const segment of segments) {
    if (!SEGMENT.test(segment))
      throw invalidArgument(
        field,
        `must be segments of [A-Za-z0-9._-] joined by '/', none empty or starting with '.' (got ${JSON.stringify(key)})`,
      );
  }
  return segments;
}
