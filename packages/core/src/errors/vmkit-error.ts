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

/**
 * Whose fault a failure was, that is, who has to act: `caller` (the request was wrong: fix the
 * arguments, the name, the order of calls), `service` (the hypervisor or store misbehaved or
 * holds bad data) or `environment` (the network, credentials, permissions, configuration or a
 * missing feature of the host).
 */
export type VmkitErrorFault = 'caller' | 'service' | 'environment';

const BRAND = Symbol.for('vmkit.error');

/** Options accepted by {@link VmkitError}'s constructor. */
export interface VmkitErrorOptions {
  /** The underlying error, kept for diagnostics. */
  cause?: unknown;
  /** Structured facts about the failure (the bad field, the image id, ...). */
  details?: Record<string, unknown>;
  /** Whether the same call may succeed later (default: from the code, see `classifyErrorCode`). */
  retryable?: boolean;
  /** Whose fault it was (default: from the code, see `classifyErrorCode`). */
  fault?: VmkitErrorFault;
}

/** The classification of a failure: whether a retry can help, and who has to act. */
export interface VmkitErrorClass {
  /** Whether the same call, made again unchanged, may succeed. */
  readonly retryable: boolean;
  /** Whose fault it was. */
  readonly fault: VmkitErrorFault;
}

const BY_CODE: Readonly<Record<VmkitErrorCode, VmkitErrorClass>> = Object.freeze({
  NOT_FOUND: { retryable: false, fault: 'caller' },
  CONFLICT: { retryable: false, fault: 'caller' },
  INVALID_ARGUMENT: { retryable: false, fault: 'caller' },
  ABORTED: { retryable: false, fault: 'caller' },
  PROVIDER: { retryable: false, fault: 'service' },
  STORE: { retryable: false, fault: 'service' },
  CORRUPT: { retryable: false, fault: 'service' },
  TIMEOUT: { retryable: true, fault: 'environment' },
  UNSUPPORTED: { retryable: false, fault: 'environment' },
});

/**
 * The default classification of a code, used when a {@link VmkitError} is made without
 * `retryable` or `fault`: only `TIMEOUT` is retryable; `NOT_FOUND`, `CONFLICT`,
 * `INVALID_ARGUMENT` and `ABORTED` are the caller's fault, `PROVIDER`, `STORE` and `CORRUPT` the
 * service's, `TIMEOUT` and `UNSUPPORTED` the environment's. Code that knows better (an S3
 * throttling answer, a lost libvirt connection) says so through the constructor options.
 */
export function classifyErrorCode(code: VmkitErrorCode): VmkitErrorClass {
  return BY_CODE[code];
}

/** The plain-object form of a {@link VmkitError}, as `JSON.stringify` writes it. */
export interface VmkitErrorJson {
  /** The class name (`VmkitError`, `LibvirtError`, ...). */
  readonly name: string;
  /** The code. */
  readonly code: VmkitErrorCode;
  /** The message. */
  readonly message: string;
  /** Whether a retry can help. */
  readonly retryable: boolean;
  /** Whose fault it was. */
  readonly fault: VmkitErrorFault;
  /** Structured facts. */
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * The one error class of vmkit. Callers branch on {@link VmkitError.code}, and on
 * {@link VmkitError.retryable} and {@link VmkitError.fault} to decide whether to try again and whom
 * to tell; {@link VmkitError.is} recognises errors from any copy of the package (the brand is a
 * `Symbol.for` key), so it works across duplicate installs where `instanceof` does not.
 */
export class VmkitError extends Error {
  /** What kind of failure this is. */
  readonly code: VmkitErrorCode;
  /** Structured facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;
  /** Whether the same call, made again unchanged, may succeed (a timeout, a lost connection, throttling). */
  readonly retryable: boolean;
  /** Whose fault it was: the caller's, the service's or the environment's. */
  readonly fault: VmkitErrorFault;

  constructor(code: VmkitErrorCode, message: string, options: VmkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VmkitError';
    this.code = code;
    this.details = Object.freeze({ ...options.details });
    const defaults = classifyErrorCode(code);
    this.retryable = options.retryable ?? defaults.retryable;
    this.fault = options.fault ?? defaults.fault;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True when `value` is a vmkit error, optionally of the given code. */
  static is(value: unknown, code?: VmkitErrorCode): value is VmkitError {
    if (typeof value !== 'object' || value === null) return false;
    if ((value as Record<symbol, unknown>)[BRAND] !== true) return false;
    return code === undefined || (value as VmkitError).code === code;
  }

  /** The error as a plain object (name, code, message, classification, details), for logs and APIs. */
  toJSON(): VmkitErrorJson {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      fault: this.fault,
      details: this.details,
    };
  }
}

/**
 * Shorthand for an `INVALID_ARGUMENT` error naming the bad field and the rule it broke. Every
 * `INVALID_ARGUMENT` in vmkit is made here, so the message is always `<field>: <rule>` and
 * `details.field` is always set.
 */
export function invalidArgument(
  field: string,
  rule: string,
  details?: Record<string, unknown>,
  options: { cause?: unknown } = {},
): VmkitError {
  return new VmkitError('INVALID_ARGUMENT', `${field}: ${rule}`, {
    details: { field, ...details },
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}

/**
 * The error of an object used after `close()` (a provider, a blob store, a client, the compute
 * service): `CONFLICT` with `details.reason` `'closed'`, the message `<what> is closed`. The
 * request conflicts with the object's state, the caller's fault, and retrying cannot help.
 */
export function closedError(what: string, details?: Record<string, unknown>): VmkitError {
  return new VmkitError('CONFLICT', `${what} is closed`, { details: { ...details, reason: 'closed' } });
}

/** True when `error` is the {@link closedError} of an object used after `close()`. */
export function isClosedError(error: unknown): error is VmkitError {
  return VmkitError.is(error, 'CONFLICT') && error.details.reason === 'closed';
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
