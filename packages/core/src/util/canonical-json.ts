import { createHash } from 'node:crypto';
import { invalidArgument } from '../errors/vmkit-error.js';

/**
 * Serialises `value` to canonical JSON: object keys sorted by code unit, no whitespace,
 * `undefined` members dropped, `Uint8Array` as base64 under `{"$bytes": ...}`. Two specs that mean
 * the same give the same string, whatever the order their keys were written in.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(value: unknown, at: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw invalidArgument(at, 'must be a finite number');
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw invalidArgument(at, `cannot be serialised (${typeof value})`);
  }
  if (value instanceof Uint8Array)
    return `{"$bytes":${JSON.stringify(Buffer.from(value).toString('base64'))}}`;
  if (Array.isArray(value))
    return `[${value.map((item, i) => write(item ?? null, `${at}[${i}]`)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${write(v, `${at}.${k}`)}`).join(',')}}`;
}

/** SHA-256 (hex) of the canonical JSON of `value`: a stable identity for a spec. */
export function specHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
