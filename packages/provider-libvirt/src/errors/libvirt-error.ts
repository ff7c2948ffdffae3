import type { VmkitErrorCode } from '@vmkit/core';
import { VmkitError } from '@vmkit/core/spi';

/** Some of libvirt's error codes (`virErrorNumber` in `virterror.h`). */
export const LibvirtErrorCode = Object.freeze({
  NO_SUPPORT: 3,
  INTERNAL_ERROR: 1,
  OPERATION_FAILED: 9,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  RPC: 39,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  AUTH_FAILED: 45,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  OPERATION_INVALID: 55,
  STORAGE_VOL_EXIST: 90,
} as const);

const NOT_FOUND_CODES: ReadonlySet<number> = new Set([
  LibvirtErrorCode.NO_DOMAIN,
  LibvirtErrorCode.NO_NETWORK,
  LibvirtErrorCode.NO_STORAGE_POOL,
  LibvirtErrorCode.NO_STORAGE_VOL,
]);

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
 * domain, network, storage pool or volume and `PROVIDER` otherwise; libvirt's own code, domain and
 * message are kept in {@link LibvirtError.libvirtCode}, {@link LibvirtError.libvirtDomain} and
 * {@link LibvirtError.libvirtMessage}.
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

/** A `PROVIDER` error about the connection itself (lost, refused, protocol violation). */
export function connectionError(message: string, cause?: unknown): VmkitError {
  return new VmkitError('PROVIDER', message, cause === undefined ? {} : { cause });
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
