import { invalidArgument } from '../errors/vmkit-error.js';

/** The range and default of an integer option. */
export interface IntegerRule {
  /** Smallest value allowed (default 1). */
  readonly min?: number;
  /** Largest value allowed (default `Number.MAX_SAFE_INTEGER`). */
  readonly max?: number;
}

/**
 * Checks an integer option and fills in its default: `undefined` gives `fallback`; anything but a
 * safe integer within `[min, max]` is `INVALID_ARGUMENT` naming `field`, the rule and the value,
 * e.g. `concurrency.builds: must be an integer from 1 to 64 (got 0)`. The one check every
 * package's options use, so the rule reads the same everywhere.
 */
export function integerOption(
  field: string,
  value: unknown,
  fallback: number,
  rule: IntegerRule = {},
): number {
  if (value === undefined) return fallback;
  return checkInteger(field, value, rule);
}

/** Like {@link integerOption} for a value that has no default: `undefined` is refused too. */
export function checkInteger(field: string, value: unknown, rule: IntegerRule = {}): number {
  const min = rule.min ?? 1;
  const max = rule.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw invalidArgument(field, `must be an integer ${range} (got ${describe(value)})`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  return typeof value;
}
