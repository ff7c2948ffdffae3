import type { RemoteErrorInfo } from '../errors/libvirt-error.js';
import { STRING_MAX, UUID_SIZE } from './protocol.js';
import type { XdrReader } from './xdr/xdr-reader.js';

/** Decodes libvirt's `remote_error` (the payload of an ERROR reply or stream packet). */
export function readRemoteError(r: XdrReader): RemoteErrorInfo {
  const code = r.int();
  const domain = r.int();
  const message = r.optional((x) => x.string(STRING_MAX));
  const level = r.int();
  r.optional((x) => {
    x.string(STRING_MAX);
    x.opaqueFixed(UUID_SIZE);
    x.int();
  });
  const str1 = r.optional((x) => x.string(STRING_MAX));
  const str2 = r.optional((x) => x.string(STRING_MAX));
  const str3 = r.optional((x) => x.string(STRING_MAX));
  const int1 = r.int();
  const int2 = r.int();
  r.optional((x) => {
    x.string(STRING_MAX);
    x.opaqueFixed(UUID_SIZE);
  });
  return {
    code,
    domain,
    message: message ?? `libvirt error ${code}`,
    level,
    ...(str1 === undefined ? {} : { str1 }),
    ...(str2 === undefined ? {} : { str2 }),
    ...(str3 === undefined ? {} : { str3 }),
    int1,
    int2,
  };
}
