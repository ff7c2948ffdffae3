import type { z } from 'zod';
import { invalidArgument } from '../errors/vmkit-error.js';

/**
 * Parses `value` with `schema`, throwing `INVALID_ARGUMENT` that names the first bad field
 * (`label.path.to.field`) and its rule; every problem is listed in `details.issues`. An unknown
 * key's rule lists the keys that are known there.
 */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, label: string): T {
  const result = schema.safeParse(value, { error: unknownKeysMessage });
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: fieldName(label, issue.path),
    rule: issue.message,
  }));
  const first = issues[0] ?? { field: label, rule: 'is invalid' };
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  throw invalidArgument(first.field, `${first.rule}${more}`, { issues });
}

function fieldName(label: string, path: readonly PropertyKey[]): string {
  let out = label;
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  return out;
}

/** The rule of an `unrecognized_keys` issue: the unknown keys and the keys its object knows. */
function unknownKeysMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  const keys = (issue.keys as readonly string[]).map((k) => JSON.stringify(k));
  const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod
    ?.def?.shape;
  const known = shape ? ` (known keys: ${Object.keys(shape).join(', ')})` : '';
  return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}${known}`;
}
