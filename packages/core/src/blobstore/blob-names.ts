import { invalidArgument } from '../errors/vmkit-error.js';

const CONTAINER = /^[a-z0-9][a-z0-9._-]{0,62}$/;
// Control characters (C0, DEL, C1) are never allowed in names.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to reject them
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Throws `INVALID_ARGUMENT` unless `container` is a valid container name. */
export function checkContainerName(container: unknown): asserts container is string {
  if (typeof container !== 'string' || !CONTAINER.test(container) || container.includes('..')) {
    throw invalidArgument(
      'container',
      `must be 1-63 characters of a-z, 0-9, '.', '_', '-', start with a letter or digit and not contain '..' (got ${JSON.stringify(container)})`,
    );
  }
}

/** Throws `INVALID_ARGUMENT` unless `name` is a valid blob name (see {@link BlobStore}). */
export function checkBlobName(name: unknown): asserts name is string {
  const bad = (rule: string) => invalidArgument('name', `${rule} (got ${JSON.stringify(name)})`);
  if (typeof name !== 'string') throw bad('must be a string');
  if (name.length === 0 || name.length > 1024) throw bad('must be 1-1024 characters');
  if (CONTROL.test(name)) throw bad('must not contain control characters');
  if (name.includes('\\')) throw bad("must not contain '\\'");
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw bad("must be '/'-separated segments, none empty, '.' or '..'");
    }
    if (Buffer.byteLength(segment) > 255) throw bad('segments must be at most 255 bytes');
  }
}

/** Throws `INVALID_ARGUMENT` unless `metadata` has token keys and string values. */
export function checkMetadata(metadata: Readonly<Record<string, string>> | undefined): void {
  if (metadata === undefined) return;
  for (const [key, value] of Object.entries(metadata)) {
    if (!/^[a-z0-9][a-z0-9_-]{0,127}$/.test(key)) {
      throw invalidArgument(`metadata.${key}`, 'keys must be 1-128 of lower-case a-z, 0-9, _ and -');
    }
    if (typeof value !== 'string') throw invalidArgument(`metadata.${key}`, 'values must be strings');
  }
}

/** Validates list options, returning the page size. */
export function checkListOptions(options: { maxKeys?: number } | undefined): number {
  const maxKeys = options?.maxKeys ?? 1000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 1000) {
    throw invalidArgument('maxKeys', `must be an integer from 1 to 1000 (got ${maxKeys})`);
  }
  return maxKeys;
}
