import { isIP } from 'node:net';
import { VmkitError } from '../errors/vmkit-error.js';

/**
 * The error of a node record that breaks a rule: `CORRUPT`, the message `node record: <field>
 * <rule>`, with the field (e.g. `network.nics[0].mac`, `ext.volumes[1]`) and the rule in
 * `details`. A provider's {@link NodeRecordExtension} throws it for its own fields.
 */
export function nodeRecordError(field: string, rule: string): VmkitError {
  return new VmkitError('CORRUPT', `node record: ${field} ${rule}`, { details: { field, rule } });
}

/** A plain JSON object, or the error naming `field`. */
export function recordObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw nodeRecordError(field, 'must be an object');
  return value as Record<string, unknown>;
}

/** Refuses keys `allowed` does not list, naming the first unknown one. */
export function onlyKeys(value: Record<string, unknown>, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value))
    if (!allowed.includes(key))
      throw nodeRecordError(`${field}.${key}`, `is not a known field (known: ${allowed.join(', ')})`);
}

/** A string matching `pattern`, or the error naming `field` with `rule`. */
export function recordString(value: unknown, field: string, pattern: RegExp, rule: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw nodeRecordError(field, rule);
  return value;
}

/** An integer in `[min, max]`. */
export function recordInteger(value: unknown, field: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max)
    throw nodeRecordError(field, `must be an integer ${min}-${max}`);
  return value as number;
}

/** An array of at most `max` items, each checked by `item` (named `field[i]`). */
export function recordArray<T>(
  value: unknown,
  field: string,
  max: number,
  item: (value: unknown, field: string) => T,
): T[] {
  if (!Array.isArray(value)) throw nodeRecordError(field, 'must be an array');
  if (value.length > max) throw nodeRecordError(field, `must have at most ${max} items`);
  return value.map((v, i) => item(v, `${field}[${i}]`));
}

/** An IPv4 or IPv6 address. */
export function recordIp(value: unknown, field: string): string {
  if (typeof value !== 'string' || isIP(value) === 0)
    throw nodeRecordError(field, 'must be an IPv4 or IPv6 address');
  return value;
}

/** An ISO 8601 UTC date-time as `Date.toISOString` writes it. */
export function recordDate(value: unknown, field: string): string {
  const rule = 'must be an ISO 8601 date-time (YYYY-MM-DDTHH:MM:SS.sssZ)';
  const text = recordString(value, field, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, rule);
  if (!Number.isFinite(Date.parse(text))) throw nodeRecordError(field, rule);
  return text;
}

/** A string of `min` to `max` characters without NUL (nor `forbidden` characters, when given). */
export function recordText(value: unknown, field: string, min: number, max: number, forbidden = ''): string {
  const without = forbidden ? ` without ${[...forbidden].join(' ')} or NUL` : ' without NUL';
  if (
    typeof value !== 'string' ||
    value.length < min ||
    value.length > max ||
    [...`\u0000${forbidden}`].some((c) => value.includes(c))
  )
    throw nodeRecordError(field, `must be ${min}-${max} characters${without}`);
  return value;
}
