import { VmkitError } from '@vmkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMetadata, encodeMetadata, PART_SIZE_KEY } from './s3-metadata.js';

describe('metadata encoding', () => {
  it('keeps plain ASCII values as they are and encodes the rest as RFC 2047 words', () => {
    const encoded = encodeMetadata({ a: 'plain value', b: 'héllo', c: ' padded ', d: '=?UTF-8?B?eA==?=' });
    expect(encoded.a).toBe('plain value');
    expect(encoded.b).toMatch(/^=\?UTF-8\?B\?.*\?=$/);
    expect(encoded.c).toMatch(/^=\?UTF-8\?B\?/);
    expect(encoded.d).not.toBe('=?UTF-8?B?eA==?=');
    for (const value of Object.values(encoded)) expect(value).toMatch(/^[\x20-\x7e]*$/);
  });

  it('round-trips any string value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        expect(decodeMetadata(encodeMetadata({ k: value })).metadata).toEqual({ k: value });
      }),
    );
  });

  it('reserves the part-size key and splits it off on read', () => {
    expect(() => encodeMetadata({ [PART_SIZE_KEY]: '1' })).toThrowError(/reserved/);
    try {
      encodeMetadata({ [PART_SIZE_KEY]: '1' });
    } catch (e) {
      expect(VmkitError.is(e, 'INVALID_ARGUMENT')).toBe(true);
    }
    const read = decodeMetadata({ Owner: 'me', [PART_SIZE_KEY]: '5242880' });
    expect(read).toEqual({ metadata: { owner: 'me' }, partSize: 5242880 });
  });
});
