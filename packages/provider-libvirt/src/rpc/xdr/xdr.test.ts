import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { XdrError } from './xdr-error.js';
import { XdrReader } from './xdr-reader.js';
import { XdrWriter } from './xdr-writer.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('XDR codec', () => {
  it('encodes integers big-endian in 4 or 8 bytes', () => {
    const w = new XdrWriter(1)
      .int(-2)
      .uint(0xdeadbeef)
      .hyper(-1n)
      .uhyper(2n ** 64n - 1n)
      .bool(true);
    expect(hex(w.bytes())).toBe(
      `fffffffe` + `deadbeef` + 'ffffffffffffffff' + 'ffffffffffffffff' + '00000001',
    );
  });

  it('pads opaque data and strings to a multiple of 4 with zeros', () => {
    const w = new XdrWriter().string('abcde').opaqueFixed(new Uint8Array([1, 2]), 2);
    expect(hex(w.bytes())).toBe('00000005' + '6162636465000000' + '01020000');
  });

  it('encodes optional values and arrays with their presence flag and count', () => {
    const w = new XdrWriter()
      .optional<string>(undefined, (x, v) => x.string(v))
      .optional('x', (x, v) => x.string(v))
      .array([7, 8], (x, v) => x.int(v));
    expect(hex(w.bytes())).toBe(
      '00000000' + '00000001' + '00000001' + '78000000' + '00000002' + '00000007' + '00000008',
    );
  });

  it('round-trips every type', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.boolean(),
        fc.uint8Array({ maxLength: 40 }),
        fc.string({ unit: 'grapheme', maxLength: 30 }),
        fc.option(fc.string({ maxLength: 5 }), { nil: undefined }),
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 10 }),
        fc.double({ noNaN: true }),
        (i, u, h, uh, b, bytes, s, opt, arr, d) => {
          const w = new XdrWriter(4)
            .int(i)
            .uint(u)
            .hyper(h)
            .uhyper(uh)
            .bool(b)
            .opaque(bytes)
            .string(s)
            .optional(opt, (x, v) => x.string(v))
            .array(arr, (x, v) => x.uint(v))
            .double(d);
          expect(w.length % 4).toBe(0);
          const r = new XdrReader(w.bytes());
          expect(r.int()).toBe(i);
          expect(r.uint()).toBe(u);
          expect(r.hyper()).toBe(h);
          expect(r.uhyper()).toBe(uh);
          expect(r.bool()).toBe(b);
          expect(r.opaque()).toEqual(bytes);
          expect(r.string()).toBe(s);
          expect(r.optional((x) => x.string())).toBe(opt);
          expect(r.array((x) => x.uint())).toEqual(arr);
          expect(r.double()).toBe(d);
          r.end();
        },
      ),
    );
  });

  it('rejects values out of range instead of wrapping them', () => {
    expect(() => new XdrWriter().int(2 ** 31)).toThrow(/xdr int/);
    expect(() => new XdrWriter().uint(-1)).toThrow(/xdr uint/);
    expect(() => new XdrWriter().uint(1.5)).toThrow(/xdr uint/);
    expect(() => new XdrWriter().uhyper(-1n)).toThrow(/out of range/);
    expect(() => new XdrWriter().string('toolong', 3)).toThrow(/limit of 3/);
    expect(() => new XdrWriter().opaqueFixed(new Uint8Array(3), 16)).toThrow(/exactly 16/);
  });

  describe('malformed input', () => {
    it('reports truncated data with its offset', () => {
      const r = new XdrReader(new Uint8Array([0, 0, 0]));
      expect(() => r.int()).toThrow(XdrError);
      expect(() => new XdrReader(new Uint8Array(7)).hyper()).toThrow(/truncated hyper/);
    });

    it('rejects a huge opaque length before allocating', () => {
      const data = new XdrWriter().uint(0xffff_fff0).bytes();
      expect(() => new XdrReader(data).opaque()).toThrow(/beyond the 0 bytes left/);
      expect(() => new XdrReader(new XdrWriter().uint(100).bytes()).string(10)).toThrow(
        /beyond its limit of 10/,
      );
    });

    it('rejects a huge array count before reading items', () => {
      const data = new XdrWriter().uint(1_000_000).int(1).bytes();
      expect(() => new XdrReader(data).array((r) => r.int())).toThrow(
        /array count 1000000 beyond the 4 bytes left/,
      );
      expect(() => new XdrReader(new XdrWriter().uint(30).bytes()).array((r) => r.int(), 20)).toThrow(
        /limit of 20/,
      );
    });

    it('rejects bad booleans, invalid UTF-8 and trailing bytes', () => {
      expect(() => new XdrReader(new XdrWriter().int(2).bytes()).bool()).toThrow(/bad boolean 2/);
      expect(() =>
        new XdrReader(new XdrWriter().opaque(new Uint8Array([0xff, 0xfe])).bytes()).string(),
      ).toThrow(/UTF-8/);
      const r = new XdrReader(new XdrWriter().int(1).int(2).bytes());
      r.int();
      expect(() => r.end()).toThrow(/4 unexpected trailing bytes/);
    });

    it('never throws anything but XdrError on random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          const r = new XdrReader(bytes);
          try {
            r.string(1024);
            r.array((x) => x.optional((y) => y.opaque(16)), 100);
            r.bool();
          } catch (error) {
            expect(error).toBeInstanceOf(XdrError);
            expect((error as XdrError).code).toBe('CORRUPT');
          }
        }),
      );
    });
  });
});
