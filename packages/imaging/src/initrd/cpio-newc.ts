import { invalidArgument } from '@vmkit/core/spi';
import { concatBytes } from '../util/bytes.js';

/** A file of a {@link writeCpioNewc} archive. */
export interface CpioFile {
  /** Path inside the archive, relative (`preseed.cfg`, `etc/x.conf`); no `..`, no leading `/`. */
  readonly name: string;
  readonly content: Uint8Array;
  /** Permission bits (default 0o600). */
  readonly mode?: number;
  /** Modification time, seconds since the epoch (default 0: archives are reproducible). */
  readonly mtime?: number;
}

const MAGIC = '070701';
const encoder = new TextEncoder();

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function header(fields: {
  ino: number;
  mode: number;
  nlink: number;
  mtime: number;
  size: number;
  nameSize: number;
}): string {
  const { ino, mode, nlink, mtime, size, nameSize } = fields;
  // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  return MAGIC + [ino, mode, 0, 0, nlink, mtime, size, 0, 0, 0, 0, nameSize, 0].map(hex8).join('');
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

/**
 * An uncompressed cpio archive in the "newc" format (the one Linux unpacks as an initramfs), with
 * regular files owned by root and a `TRAILER!!!` entry; names and data 4-byte aligned.
 */
export function writeCpioNewc(files: readonly CpioFile[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const push = (bytes: Uint8Array) => {
    parts.push(bytes);
    offset += bytes.byteLength;
  };
  const entry = (
    name: string,
    fields: { ino: number; mode: number; nlink: number; mtime: number },
    data: Uint8Array,
  ) => {
    const nameBytes = encoder.encode(`${name}\0`);
    push(encoder.encode(header({ ...fields, size: data.byteLength, nameSize: nameBytes.byteLength })));
    push(nameBytes);
    push(new Uint8Array(pad4(offset)));
    push(data);
    push(new Uint8Array(pad4(offset)));
  };
  for (const [i, file] of files.entries()) {
    const parts = file.name.split('/');
    if (file.name.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..'))
      throw invalidArgument(`files[${i}].name`, "must be a relative path without '.' or '..' parts");
    const mode = 0o100000 | ((file.mode ?? 0o600) & 0o7777);
    entry(file.name, { ino: i + 1, mode, nlink: 1, mtime: file.mtime ?? 0 }, file.content);
  }
  entry('TRAILER!!!', { ino: 0, mode: 0, nlink: 1, mtime: 0 }, new Uint8Array());
  return concatBytes(parts);
}
