import {
  redactText,
  scrubError,
  VmkitError,
  type VmkitErrorClass,
  type VmkitErrorCode,
} from '@vmkit/core/spi';

/** Some of libvirt's error codes (`virErrorNumber` in `virterror.h`). */
export const LibvirtErrorCode = Object.freeze({
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  NO_CONNECT: 5,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  NETWORK_EXIST: 37,
  RPC: 39,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  AUTH_FAILED: 45,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  NO_DOMAIN_SNAPSHOT: 72,
  ARGUMENT_UNSUPPORTED: 74,
  OPERATION_UNSUPPORTED: 84,
  AGENT_UNRESPONSIVE: 86,
  RESOURCE_BUSY: 87,
  ACCESS_DENIED: 88,
  STORAGE_VOL_EXIST: 90,
  AUTH_UNAVAILABLE: 94,
} as const);

const C = LibvirtErrorCode;
const NOT_FOUND_CODES: ReadonlySet<number> = new Set([
  C.NO_DOMAIN,
  C.NO_NETWORK,
  C.NO_STORAGE_POOL,
  C.NO_STORAGE_VOL,
  C.NO_DOMAIN_SNAPSHOT,
]);
/** Failures a later try may not meet: the daemon was unreachable, busy or slow. */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  C.NO_CONNECT,
  C.RPC,
  C.OPERATION_TIMEOUT,
  C.AGENT_UNRESPONSIVE,
  C.RESOURCE_BUSY,
]);
/** Failures of the request itself: a missing or existing object, a bad argument or XML, a wrong state. */
const CALLER_CODES: ReadonlySet<number> = new Set([
  ...NOT_FOUND_CODES,
  C.INVALID_ARG,
  C.XML_ERROR,
  C.DOM_EXIST,
  C.NETWORK_EXIST,
  C.STORAGE_VOL_EXIST,
  C.OPERATION_INVALID,
]);
/** Failures of the set-up: connection, authentication, permissions, features the host lacks. */
const ENVIRONMENT_CODES: ReadonlySet<number> = new Set([
  ...RETRYABLE_CODES,
  C.NO_SUPPORT,
  C.OPERATION_DENIED,
  C.AUTH_FAILED,
  C.CONFIG_UNSUPPORTED,
  C.ARGUMENT_UNSUPPORTED,
  C.OPERATION_UNSUPPORTED,
  C.ACCESS_DENIED,
  C.AUTH_UNAVAILABLE,
]);

/**
 * Whether a retry can help and whose fault it was, for a libvirt error code: a refused
 * connection, an RPC failure, a timeout, a busy resource or an unresponsive agent are retryable
 * and the environment's; a missing domain, network, pool or volume, an existing one, a bad
 * argument or an operation invalid in the object's state are the caller's and final; permission,
 * authentication and unsupported features are the environment's and final; anything else is the
 * hypervisor's and final.
 */
export function classifyLibvirtCode(code: number): VmkitErrorClass {
  const retryable = RETRYABLE_CODES.has(code);
  if (CALLER_CODES.has(code)) return { retryable, fault: 'caller' };
  if (ENVIRONMENT_CODES.has(code)) return { retryable, fault: 'environment' };
  return { retryable, fault: 'service' };
}

/** The fields of libvirt's `remote_error`, as sent by the daemon. */
export interface RemoteErrorInfo {
  /** libvirt's error code (`virErrorNumber`). */
  readonly code: number;
  /** libvirt's error domain (`virErrorDomain`): which part of libvirt raised it. */
  readonly domain: number;
  /** libvirt's message. */
  readonly message: string;
  /** 1 warning, 2 error. */
  readonly level: number;
  /** Extra strings some errors carry. */
  readonly str1?: string;
  readonly str2?: string;
  readonly str3?: string;
  /** Extra numbers some errors carry. */
  readonly int1: number;
  readonly int2: number;
}

/**
 * An error reported by libvirt. Its vmkit {@link VmkitError.code} is `NOT_FOUND` for a missing
 * domain, network, storage pool, volume or domain snapshot and `PROVIDER` otherwise; libvirt's own code, domain and
 * message are kept in {@link LibvirtError.libvirtCode}, {@link LibvirtError.libvirtDomain} and
 * {@link LibvirtError.libvirtMessage}; `retryable` and `fault` follow libvirt's code (see
 * `classifyLibvirtCode`).
 */
export class LibvirtError extends VmkitError {
  /** libvirt's error code (`virErrorNumber`, e.g. 42 for VIR_ERR_NO_DOMAIN). */
  readonly libvirtCode: number;
  /** libvirt's error domain (`virErrorDomain`). */
  readonly libvirtDomain: number;
  /** libvirt's own message. */
  readonly libvirtMessage: string;
  /** The procedure that failed, e.g. `DOMAIN_LOOKUP_BY_NAME`. */
  readonly procedure: string;

  constructor(info: RemoteErrorInfo, procedure: string) {
    const code: VmkitErrorCode = NOT_FOUND_CODES.has(info.code) ? 'NOT_FOUND' : 'PROVIDER';
    super(code, `libvirt ${procedure}: ${info.message} (code ${info.code}, domain ${info.domain})`, {
      details: { libvirtCode: info.code, libvirtDomain: info.domain, procedure },
      ...classifyLibvirtCode(info.code),
    });
    this.name = 'LibvirtError';
    this.libvirtCode = info.code;
    this.libvirtDomain = info.domain;
    this.libvirtMessage = info.message;
    this.procedure = procedure;
  }

  /** True when `error` is a {@link LibvirtError} with libvirt's error code `code`. */
  static hasCode(error: unknown, code: number): error is LibvirtError {
    return error instanceof LibvirtError && error.libvirtCode === code;
  }
}

/**
 * A `PROVIDER` error about the connection itself (lost, refused, protocol violation): retryable
 * (the client reconnects on the next call) and the environment's fault. The message goes through
 * `redactText` (a URI's `user:password@` and query values hidden) and the cause through
 * `scrubError` (no spawn arguments, sockets or requests kept), whatever the transport.
 */
export function connectionError(message: string, cause?: unknown): VmkitError {
  return new VmkitError('PROVIDER', redactText(message), {
    retryable: true,
    fault: 'environment',
    ...(cause === undefined ? {} : { cause: scrubError(cause) }),
  });
}

/**
 * True when `error` is libvirt saying the object to create already exists: a domain (
 * `DOM_EXIST`, or `OPERATION_FAILED` "already exists with uuid" on define) or a volume
 * (`STORAGE_VOL_EXIST`).
 */
export function alreadyExists(error: unknown): boolean {
  if (!(error instanceof LibvirtError)) return false;
  if (
    error.libvirtCode === LibvirtErrorCode.DOM_EXIST ||
    error.libvirtCode === LibvirtErrorCode.STORAGE_VOL_EXIST
  )
    return true;
  return (
    error.libvirtCode === LibvirtErrorCode.OPERATION_FAILED && /already exists/i.test(error.libvirtMessage)
  );
}
