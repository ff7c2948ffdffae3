import { VmkitError } from '@vmkit/core/spi';
import { connectionError, LibvirtError } from '../errors/libvirt-error.js';
import { readRemoteError } from './remote-error.js';
import { XdrReader } from './xdr/xdr-reader.js';

/** Decodes an ERROR payload of the procedure named `procedure` into a {@link LibvirtError}. */
export function decodeError(payload: Uint8Array, procedure: string): VmkitError {
  try {
    return new LibvirtError(readRemoteError(new XdrReader(payload)), procedure);
  } catch (error) {
    return connectionError(`libvirt ${procedure} failed with an undecodable error`, error);
  }
}

/** A socket error as the `PROVIDER` error of a lost connection (vmkit errors pass through). */
export function toConnectionError(error: Error): VmkitError {
  if (VmkitError.is(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return connectionError(`connection to libvirtd failed: ${code ?? error.message}`, error);
}
