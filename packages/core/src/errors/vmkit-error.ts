/** The kinds of failure every vmkit package reports. */
export type VmkitErrorCode =
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INVALID_ARGUMENT'
  | 'PROVIDER'
  | 'STORE'
  | 'ABORTED'
  | 'TIMEOUT'
  | 'UNSUPPORTED'
  | 'CORRUPT';

const BRAND = Symbol.for('vmkit.error');

/** Options accepted by {@link VmkitError}'s constructor. */
export interface VmkitErrorOptions {
  /** The underlying error, kept for diagnostics. */
  cause?: unknown;
  /** Structured facts about the failure (the bad field, the image id, ...). */
  details?: Record<string, unknown>;
}

/**
 * The one error class of vmkit. Callers branch on {@link VmkitError.code}; {@link VmkitError.is}
 * recognises errors from any copy of the package (the brand is a `Symbol.for` key), so it works
 * across duplicate installs where `instanceof` does not.
 */
export class VmkitError extends Error {
  /** What kind of failure this is. */
  readonly code: VmkitErrorCode;
  /** Structured facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: VmkitErrorCode, message: string, options: VmkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VmkitError';
    this.code = code;
    this.details = Object.freeze({ ...options.details });
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True when `value` is a vmkit error, optionally of the given code. */
  static is(value: unknown, code?: VmkitErrorCode): value is VmkitError {
    if (typeof value !== 'object' || value === null) return false;
    if ((value as Record<symbol, unknown>)[BRAND] !== true) return false;
    return code === undefined || (value as VmkitError).code === code;
  }
}

/** Shorthand for an `INVALID_ARGUMENT` error naming the bad field and the rule it broke. */
export function invalidArgument(field: string, rule: string, details?: Record<string, unknown>): VmkitError {
  return new VmkitError('INVALID_ARGUMENT', `${field}: ${rule}`, { details: { field, ...details } });
}

/**
 * Wraps any thrown value as a {@link VmkitError}: vmkit errors pass through unchanged, abort
 * reasons become `ABORTED`, anything else becomes `fallback` with the original as `cause`.
 */
export function toVmkitError(error: unknown, fallback: VmkitErrorCode, message: string): VmkitError {
  if (VmkitError.is(error)) return error;
  if (isAbortError(error)) return new VmkitError('ABORTED', `${message}: aborted`, { cause: error });
  const reason = error instanceof Error ? error.message : String(error);
  return new VmkitError(fallback, `${message}: ${reason}`, { cause: error });
}

/** True for the errors `AbortSignal` and `AbortController` produce. */
export function isAbortError(error: unknown): boolean {
  if (VmkitError.is(error, 'ABORTED')) return true;
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}
