import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareEtag, EtagDigest } from './etag-digest.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest();

describe('EtagDigest', () => {
  it('computes the whole MD5 and the multipart ETag whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 400 }),
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        (bytes, partSize, cuts) => {
          const digest = new EtagDigest(partSize);
          let off = 0;
          for (let i = 0; off < bytes.length; i++) {
            const n = cuts[i % cuts.length] as number;
            digest.update(bytes.subarray(off, off + n));
            off += n;
          }
          const parts: Buffer[] = [];
          for (let p = 0; p < bytes.length; p += partSize) parts.push(md5(bytes.subarray(p, p + partSize)));
          const sums = digest.finish();
          expect(sums.md5).toBe(md5(bytes).toString('hex'));
          expect(sums.composite).toBe(`${md5(Buffer.concat(parts)).toString('hex')}-${parts.length}`);
        },
      ),
    );
  });
});

describe('EtagDigest.updatePart', () => {
  it('gives each part its MD5 and the same ETags as update()', () => {
    const bytes = Buffer.from(Array.from({ length: 250 }, (_, i) => (i * 31) % 256));
    const byParts = new EtagDigest(64);
    const byChunks = new EtagDigest(64);
    for (let off = 0; off < bytes.length; off += 64) {
      const part = bytes.subarray(off, off + 64);
      expect(byParts.updatePart(part).equals(md5(part))).toBe(true);
      byChunks.update(part);
    }
    expect(byParts.finish()).toEqual(byChunks.finish());
  });

  it('refuses a part that does not start on a part boundary or is too large', () => {
    const digest = new EtagDigest(8);
    digest.update(new Uint8Array(3));
    expect(() => digest.updatePart(new Uint8Array(8))).toThrow(RangeError);
    expect(() => new EtagDigest(8).updatePart(new Uint8Array(9))).toThrow(RangeError);
    expect(() => new EtagDigest().updatePart(new Uint8Array(1))).toThrow(RangeError);
  });
});

describe('compareEtag', () => {
  const sums = { md5: 'a'.repeat(32), composite: `${'b'.repeat(32)}-3` };
  it('checks plain and multipart ETags, quoted or not', () => {
    expect(compareEtag(`"${'a'.repeat(32)}"`, sums)).toBe('match');
    expect(compareEtag(`"${'c'.repeat(32)}"`, sums)).toBe('mismatch');
    expect(compareEtag(`"${'b'.repeat(32)}-3"`, sums)).toBe('match');
    expect(compareEtag(`"${'b'.repeat(32)}-4"`, sums)).toBe('mismatch');
  });
  it('does not judge ETags that are not MD5-based', () => {
    expect(compareEtag(undefined, sums)).toBe('unverifiable');
    expect(compareEtag(`"${'b'.repeat(32)}-3"`, { md5: sums.md5 })).toBe('unverifiable');
    expect(compareEtag(`"${'c'.repeat(32)}"`, sums, { serverSideEncryption: 'aws:kms' })).toBe(
      'unverifiable',
    );
    expect(compareEtag(`"${'c'.repeat(32)}"`, sums, { customerAlgorithm: 'AES256' })).toBe('unverifiable');
    expect(compareEtag('"opaque-etag"', sums)).toBe('unverifiable');
  });
});
