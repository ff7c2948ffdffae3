import { isAbortError, VmkitError, type VmkitErrorFault } from '../errors/vmkit-error.js';

/** Which store call failed, in `VmkitError.details` of every store error. */
export interface StoreErrorContext {
  /** The store operation, e.g. `list` or `putBlob`. */
  readonly operation: string;
  /** The container. */
  readonly container: string;
  /** The blob, when the operation has one. */
  readonly name?: string;
}

/**
 * System error codes a later try may not meet: a file or folder another process removed or
 * created meanwhile, a busy or exhausted resource, an interrupted or timed-out call.
 */
const TRANSIENT = new Set([
  'ENOENT',
  'ENOTEMPTY',
  'EBUSY',
  'EAGAIN',
  'EMFILE',
  'ENFILE',
  'EINTR',
  'ETIMEDOUT',
  'ESTALE',
]);
/** System error codes that are the host's to fix: permissions, a full or read-only disk. */
const ENVIRONMENT = new Set(['EACCES', 'EPERM', 'ENOSPC', 'EDQUOT', 'EROFS']);

/**
 * Any error out of a blob store's driver as a {@link VmkitError} naming the operation, container
 * and blob in `details`: vmkit errors that name the container pass through; a `STORE` or
 * `TIMEOUT` error that does not gains the names; an abort becomes `ABORTED`; anything else (a
 * Node system error) becomes `STORE` with the original as `cause`, its `code` in `details.errno`,
 * and `retryable` when a later try can succeed (see `TRANSIENT`).
 */
export function storeError(error: unknown, what: string, context: StoreErrorContext): VmkitError {
  const where = `${context.operation} ${context.container}${context.name === undefined ? '' : `/${context.name}`}`;
  if (VmkitError.is(error)) {
    if (error.details.container !== undefined || !['STORE', 'TIMEOUT'].includes(error.code)) return error;
    return new VmkitError(error.code, error.message, {
      cause: error.cause ?? error,
      retryable: error.retryable,
      fault: error.fault,
      details: { ...context, ...error.details },
    });
  }
  if (isAbortError(error)) return new VmkitError('ABORTED', `${where}: aborted`, { cause: error });
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const fault: VmkitErrorFault = ENVIRONMENT.has(errno ?? '') ? 'environment' : 'service';
  const reason = error instanceof Error ? error.message : String(error);
  return new VmkitError('STORE', `${what}: ${where}: ${reason}`, {
    cause: error,
    retryable: TRANSIENT.has(errno ?? ''),
    fault,
    details: { ...context, ...(errno === undefined ? {} : { errno }) },
  });
}
