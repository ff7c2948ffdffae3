import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { readIso9660 } from './iso-reader.js';

const S = 2048;
const ROOT = 18;

function both32(b: Uint8Array, at: number, value: number): void {
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  view.setUint32(at, value, true);
  view.setUint32(at + 4, value, false);
}

/** One directory record (ECMA-119 9.1) with an optional system use field. */
function record(
  lba: number,
  size: number,
  name: string | number,
  flags = 0,
  su: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const id = typeof name === 'number' ? Uint8Array.of(name) : new TextEncoder().encode(name);
  const pad = id.length % 2 === 0 ? 1 : 0;
  let len = 33 + id.length + pad + su.length;
  len += len % 2;
  const r = new Uint8Array(len);
  r[0] = len;
  both32(r, 2, lba);
  both32(r, 10, size);
  r.set([100, 1, 1], 18);
  r[25] = flags;
  r[28] = 1;
  r[31] = 1;
  r[32] = id.length;
  r.set(id, 33);
  r.set(su, 33 + id.length + pad);
  return r;
}

/** An image of `sectors` sectors: primary descriptor, terminator, and a root of `rootSectors` holding `records` after `.` and `..`. */
function image(sectors: number, rootSectors: number, records: Uint8Array[], rootSu?: Uint8Array): Uint8Array {
  const img = new Uint8Array(sectors * S);
  const pvd = img.subarray(16 * S);
  pvd[0] = 1;
  pvd.set(new TextEncoder().encode('CD001'), 1);
  pvd[6] = 1;
  pvd.set(new TextEncoder().encode('HOSTILE'), 40);
  both32(pvd, 80, sectors);
  new DataView(img.buffer).setUint16(16 * S + 128, S, true);
  pvd.set(record(ROOT, rootSectors * S, 0, 2), 156);
  const end = img.subarray(17 * S);
  end[0] = 255;
  end.set(new TextEncoder().encode('CD001'), 1);
  end[6] = 1;
  let at = ROOT * S;
  for (const r of [
    record(ROOT, rootSectors * S, 0, 2, rootSu),
    record(ROOT, rootSectors * S, 1, 2),
    ...records,
  ]) {
    if ((at % S) + r.length > S) at += S - (at % S);
    img.set(r, at);
    at += r.length;
  }
  expect(at).toBeLessThanOrEqual((ROOT + rootSectors) * S);
  return img;
}

/** A SUSP CE entry pointing at `length` bytes at `offset` of sector `block`. */
function ce(block: number, offset: number, length: number): Uint8Array {
  const e = new Uint8Array(28);
  e.set([0x43, 0x45, 28, 1]);
  both32(e, 4, block);
  both32(e, 12, offset);
  both32(e, 20, length);
  return e;
}
const SP = Uint8Array.of(0x53, 0x50, 7, 1, 0xbe, 0xef, 0);

async function corruption(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(VmkitError.is(error, 'CORRUPT'), String(error)).toBe(true);
  return (error as Error).message;
}

describe('readIso9660 on hostile images', () => {
  it('refuses a directory extent that overlaps one already read', async () => {
    // D starts inside the root's own extent: an old reader re-read the same bytes as a new directory.
    const img = image(40, 4, [record(ROOT + 1, 3 * S, 'D', 2)]);
    expect(await corruption(readIso9660(img))).toMatch(/directory 'D' overlaps a directory already read/);
  });

  it('counts every parsed record against maxEntries, multi-extent parts included', async () => {
    const parts = Array.from({ length: 30 }, (_, i) => record(30, 0, 'F.;1', i < 29 ? 0x80 : 0));
    const img = image(40, 2, parts);
    expect(await corruption(readIso9660(img, { maxEntries: 1 }))).toMatch(/more than 20 directory records/);
    expect((await readIso9660(img, { maxEntries: 10 })).files.map((f) => f.path)).toEqual(['F']);
  });

  it('refuses a file whose extents add up to more than the image', async () => {
    const parts = Array.from({ length: 3 }, (_, i) => record(0, 40 * S, 'F.;1', i < 2 ? 0x80 : 0));
    expect(await corruption(readIso9660(image(40, 1, parts)))).toMatch(/'F' claims 245760 bytes, more than/);
  });

  it('refuses a file whose extents overlap each other', async () => {
    const parts = [record(30, 2 * S, 'F.;1', 0x80), record(31, S, 'F.;1')];
    expect(await corruption(readIso9660(image(40, 1, parts)))).toMatch(/'F' has overlapping extents/);
  });

  it('refuses a file recorded in too many extents', async () => {
    const parts = Array.from({ length: 4097 }, (_, i) => record(30, 0, 'F.;1', i < 4096 ? 0x80 : 0));
    expect(await corruption(readIso9660(image(120, 100, parts)))).toMatch(/4097 extents; at most 4096/);
  });

  it('refuses a SUSP continuation area used by two records', async () => {
    const img = image(
      40,
      1,
      [record(30, 0, 'A', 0, ce(25, 0, 64)), record(30, 0, 'B', 0, ce(25, 0, 64))],
      SP,
    );
    expect(await corruption(readIso9660(img))).toMatch(/continuation area at byte 51200 is used twice/);
  });

  it('refuses a SUSP continuation area beyond the end of the image', async () => {
    const img = image(40, 1, [record(30, 0, 'A', 0, ce(39, 100, 4000))], SP);
    expect(await corruption(readIso9660(img))).toMatch(
      /continuation area \(4000 bytes at 79972\) lies beyond/,
    );
  });

  it('caps the SUSP continuation bytes of the whole image at its size', async () => {
    // Three overlapping 60,000-byte areas in a 100 KiB image: each record alone is fine.
    const records = [0, 4, 8].map((off, i) => record(30, 0, `R${i}`, 0, ce(20, off, 60000)));
    const img = image(50, 1, records, SP);
    expect(await corruption(readIso9660(img))).toMatch(/continuation areas hold more than 102400 bytes/);
    expect((await readIso9660(image(50, 1, records.slice(0, 1), SP))).files.map((f) => f.path)).toEqual([
      'R0',
    ]);
  });

  it.each([0, -1, 1.5, Number.NaN, '3'])('refuses maxEntries / maxDepth of %j', async (bad) => {
    const img = image(40, 1, []);
    await expect(readIso9660(img, { maxEntries: bad as number })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'options.maxEntries' },
    });
    await expect(readIso9660(img, { maxDepth: bad as number })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'options.maxDepth' },
    });
  });
});
