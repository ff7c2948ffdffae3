import type { VmkitErrorCode } from '@vmkit/core/spi';
import { type ScrubErrorOptions, scrubError, VmkitError } from '@vmkit/core/spi';

/** VirtualBox result codes vmkit tells apart. */
export const VBOX_RESULT = Object.freeze({
  OBJECT_NOT_FOUND: 0x80bb0001,
  INVALID_VM_STATE: 0x80bb0002,
  FILE_ERROR: 0x80bb0004,
  /** VBOX_E_IPRT_ERROR: e.g. a file that is not a disk format VirtualBox reads. */
  IPRT_ERROR: 0x80bb0005,
  INVALID_OBJECT_STATE: 0x80bb0007,
  INVALID_SESSION_STATE: 0x80bb000b,
  OBJECT_IN_USE: 0x80bb000c,
  ACCESS_DENIED: 0x80070005,
});

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
  'ECONNABORTED',
]);

/**
 * How errors of the VirtualBox transport are scrubbed: node-soap and axios errors carry the HTTP
 * request (its body is the SOAP call: the logon's `<password>`, websession ids), its headers and
 * the response; only the parsed SOAP fault, which {@link readFault} reads, is kept besides what
 * `scrubError` keeps of every error.
 */
const SCRUB: ScrubErrorOptions = { keep: ['root.Envelope.Body.Fault'] };

/** What a SOAP fault from vboxwebsrv says: its result code, or that a reference was invalid. */
export interface VboxFault {
  /** Unsigned result code of a RuntimeFault. */
  readonly resultCode?: number;
  /** Set for an InvalidObjectFault (stale or foreign managed object reference). */
  readonly invalidObject?: boolean;
  /** The fault string. */
  readonly text: string;
}

/** Reads the fault out of an error thrown by `virtualbox-soap` (node-soap), if it is one. */
export function readFault(error: unknown): VboxFault | undefined {
  const fault = (error as { root?: { Envelope?: { Body?: { Fault?: Record<string, unknown> } } } })?.root
    ?.Envelope?.Body?.Fault;
  if (!fault) return undefined;
  const text = String(fault.faultstring ?? '');
  const detail = (fault.detail ?? {}) as Record<string, Record<string, unknown> | undefined>;
  if (detail.InvalidObjectFault) return { invalidObject: true, text };
  const raw = detail.RuntimeFault?.resultCode;
  if (raw !== undefined) return { resultCode: Number(raw) >>> 0, text };
  const m = /\(0x([0-9a-f]{8})\)\s*$/i.exec(text);
  return m ? { resultCode: Number.parseInt(m[1] ?? '0', 16), text } : { text };
}

/** The network error code (`ECONNREFUSED`, ...) behind an error, if any. */
export function networkCode(error: unknown): string | undefined {
  for (
    let e = error as { code?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 5;
    e = e.cause as typeof e, i++
  )
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  return undefined;
}

/** Whether an error is a fault with this result code. */
export function hasResult(error: unknown, code: number): boolean {
  if (VmkitError.is(error) && error.details.resultCode === code) return true;
  const cause = VmkitError.is(error) ? error.cause : error;
  return readFault(cause)?.resultCode === code || readFault(error)?.resultCode === code;
}

/** The vmkit error code for a VirtualBox result code. */
export function codeForResult(resultCode: number | undefined): VmkitErrorCode {
  switch (resultCode) {
    case VBOX_RESULT.OBJECT_NOT_FOUND:
      return 'NOT_FOUND';
    case VBOX_RESULT.INVALID_VM_STATE:
    case VBOX_RESULT.INVALID_OBJECT_STATE:
    case VBOX_RESULT.INVALID_SESSION_STATE:
    case VBOX_RESULT.OBJECT_IN_USE:
      return 'CONFLICT';
    default:
      return 'PROVIDER';
  }
}

/**
 * Turns what `virtualbox-soap` threw into a {@link VmkitError}: faults by result code
 * (object not found → `NOT_FOUND`; invalid VM, object or session state and object in use →
 * `CONFLICT`; access denied and the rest → `PROVIDER`), an unreachable endpoint → `PROVIDER`
 * naming it. A lost connection and an unknown reference (vboxwebsrv restarted) are `retryable`,
 * with `details.reason` `connection-lost` or `session-lost`. The cause is the original error scrubbed of the HTTP request, its headers and the
 * response, at every depth (`scrubError`, keeping the parsed SOAP fault); a {@link VmkitError}
 * passes through (the same object) with its causes scrubbed the same way. `what` says what was
 * being done.
 */
export function vboxError(error: unknown, what: string, endpoint: string): VmkitError {
  if (VmkitError.is(error)) return scrubError(error, SCRUB);
  const cause = scrubError(error, SCRUB);
  const net = networkCode(error);
  if (net)
    return new VmkitError('PROVIDER', `${what}: cannot reach vboxwebsrv at ${endpoint} (${net})`, {
      cause,
      retryable: true,
      details: { reason: 'connection-lost' },
    });
  const fault = readFault(error);
  if (fault?.invalidObject)
    return new VmkitError(
      'PROVIDER',
      `${what}: vboxwebsrv at ${endpoint} no longer knows a reference (websession expired or vboxwebsrv restarted): ${fault.text}`,
      { cause, retryable: true, details: { reason: 'session-lost' } },
    );
  if (fault) {
    const hex = fault.resultCode === undefined ? '' : ` [0x${fault.resultCode.toString(16)}]`;
    return new VmkitError(codeForResult(fault.resultCode), `${what}: ${fault.text}${hex}`, {
      cause,
      details: fault.resultCode === undefined ? {} : { resultCode: fault.resultCode },
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new VmkitError('PROVIDER', `${what}: ${message} (vboxwebsrv at ${endpoint})`, { cause });
}

/**
 * Whether an error means the websession is gone: vboxwebsrv could not be reached (stopped,
 * restarting, a connection reset) or no longer knows a managed object reference (it restarted,
 * or the websession expired). Such a call may not have run, or ran only in part; the websession
 * must be opened again before anything else is tried.
 */
export function isSessionLost(error: unknown): boolean {
  if (VmkitError.is(error)) {
    const reason = error.details.reason;
    if (reason === 'connection-lost' || reason === 'session-lost') return true;
  }
  const cause = VmkitError.is(error) ? error.cause : error;
  return (
    networkCode(cause) !== undefined ||
    readFault(cause)?.invalidObject === true ||
    readFault(error)?.invalidObject === true
  );
}

/** Whether an error says VBOX_E_OBJECT_NOT_FOUND. */
export function isNotFound(error: unknown): boolean {
  return hasResult(error, VBOX_RESULT.OBJECT_NOT_FOUND);
}
