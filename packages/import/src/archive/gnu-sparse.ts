import { VmkitError } from '@vmkit/core/spi';

const BLOCK = 512;
const ZEROS = Buffer.alloc(1024 * 1024);
/** Largest pax extended header read (its `size` may apply to the next member). */
const MAX_PAX_BYTES = 64 * 1024;

function corrupt(message: string): VmkitError {
  return new VmkitError('INVALID_ARGUMENT', `Vagrant box: ${message} (rule box-member)`, {
    details: { rule: 'box-member' },
  });
}

/** A tar numeric field: octal text, or GNU's base-256 (high bit set) for large values. */
function numberAt(buf: Buffer, at: number, length: number): number {
  if (buf[at]! & 0x80) {
    let n = buf[at]! & 0x7f;
    for (let i = 1; i < length; i++) n = n * 256 + buf[at + i]!;
    if (!Number.isSafeInteger(n)) throw corrupt('a size field is too large');
    return n;
  }
  const text = buf
    .toString('latin1', at, at + length)
    .replace(/[\0 ].*$/s, '')
    .trim();
  return text ? Number.parseInt(text, 8) : 0;
}

/** Writes `n` into a 12-byte size field (octal, or base-256 beyond 8 GiB) and fixes the checksum. */
function regularHeader(header: Buffer, size: number): Buffer {
  const h = Buffer.from(header);
  h[156] = 0x30; // '0': a regular file
  h.fill(0, 345, BLOCK); // GNU's atime, ctime, offset and sparse map
  if (size < 8 ** 11) h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
  else {
    h.fill(0, 124, 136);
    h[124] = 0x80;
    for (let i = 135, n = size; i > 124 && n > 0; i--, n = Math.floor(n / 256)) h[i] = n % 256;
  }
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

const padOf = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;

/**
 * Rewrites GNU tar's old sparse members (type `S`, as `tar -S` writes them and vagrant-libvirt's
 * `create_box.sh` packs `box.img`) into regular members with their holes filled with zeros, and
 * passes everything else through as it is, so that the tar reader after it sees plain files.
 * The sparse map is checked (segments in order, inside the real size, adding up to the bytes
 * stored) and a real size over `maxBytes` is refused before any of it is produced.
 */
export function expandGnuSparse(maxBytes: number) {
  return async function* expand(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const it = source[Symbol.asyncIterator]();
    let buf: Buffer = Buffer.alloc(0);
    let ended = false;
    const fill = async (n: number) => {
      while (buf.length < n && !ended) {
        const next = await it.next();
        if (next.done) ended = true;
        else buf = buf.length ? Buffer.concat([buf, next.value]) : next.value;
      }
      return buf.length >= n;
    };
    const take = async (n: number) => {
      if (!(await fill(n))) throw corrupt('the archive ends inside a member');
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      return out;
    };
    async function* pass(n: number): AsyncGenerator<Buffer> {
      while (n > 0) {
        if (buf.length === 0 && !(await fill(1))) throw corrupt('the archive ends inside a member');
        const part = buf.subarray(0, Math.min(n, buf.length));
        buf = buf.subarray(part.length);
        n -= part.length;
        yield part;
      }
    }
    function* zeros(n: number): Generator<Buffer> {
      for (; n > 0; n -= ZEROS.length) yield ZEROS.subarray(0, Math.min(n, ZEROS.length));
    }
    let paxSize: number | undefined;
    while (await fill(BLOCK)) {
      const header = await take(BLOCK);
      const type = String.fromCharCode(header[156]!);
      const size = paxSize ?? numberAt(header, 124, 12);
      if (header.every((b) => b === 0) || type !== 'S') {
        if (type === 'x' && size <= MAX_PAX_BYTES) {
          const body = await take(size + padOf(size));
          yield header;
          yield body;
          const m = /(?:^|\n)\d+ size=(\d+)\n/.exec(body.subarray(0, size).toString('utf8'));
          paxSize = m ? Number(m[1]) : undefined;
          continue;
        }
        paxSize = undefined;
        yield header;
        yield* pass(size + padOf(size));
        continue;
      }
      paxSize = undefined;
      const segments: Array<[number, number]> = [];
      const readMap = (block: Buffer, at: number, count: number) => {
        for (let i = 0; i < count; i++) {
          const o = at + i * 24;
          if (block[o] === 0) break;
          segments.push([numberAt(block, o, 12), numberAt(block, o + 12, 12)]);
        }
      };
      readMap(header, 386, 4);
      for (let extended = header[482] !== 0; extended; ) {
        const ext = await take(BLOCK);
        readMap(ext, 0, 21);
        extended = ext[504] !== 0;
        if (segments.length > 65536) throw corrupt('a sparse member has too many segments');
      }
      const realSize = numberAt(header, 483, 12);
      if (realSize > maxBytes)
        throw new VmkitError(
          'INVALID_ARGUMENT',
          `Vagrant box: a sparse member of ${realSize} bytes is more than limits.maxImageBytes (${maxBytes} bytes) (rule box-size)`,
          { details: { rule: 'box-size' } },
        );
      let pos = 0;
      let stored = 0;
      for (const [offset, length] of segments) {
        if (offset < pos || offset + length > realSize)
          throw corrupt('a sparse map is out of order or too long');
        pos = offset + length;
        stored += length;
      }
      if (stored !== size) throw corrupt(`a sparse map lists ${stored} bytes but ${size} are stored`);
      yield regularHeader(header, realSize);
      pos = 0;
      for (const [offset, length] of segments) {
        yield* zeros(offset - pos);
        yield* pass(length);
        pos = offset + length;
      }
      yield* zeros(realSize - pos + padOf(realSize));
      await take(padOf(size));
    }
    if (buf.length) yield buf;
  };
}
