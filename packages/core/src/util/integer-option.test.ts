import { describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { checkInteger, integerOption } from './integer-option.js';

describe('integerOption', () => {
  it('fills in the default only for undefined', () => {
    expect(integerOption('a', undefined, 7)).toBe(7);
    expect(integerOption('a', 3, 7)).toBe(3);
  });

  it('refuses what is not a safe integer in range, naming the field, rule and value', () => {
    const cases: Array<[unknown, RegExp]> = [
      [0, /^n\.m: must be an integer at least 1 \(got 0\)$/],
      [1.5, /got 1\.5/],
      ['4', /got "4"/],
      [Number.NaN, /got NaN/],
      [2 ** 60, /must be an integer at least 1/],
      [{}, /got object/],
      [null, /got null/],
    ];
    for (const [value, message] of cases) {
      const error = (() => {
        try {
          integerOption('n.m', value, 1);
        } catch (e) {
          return e;
        }
      })();
      expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('names both ends of a bounded range', () => {
    expect(() => integerOption('c', 65, 2, { min: 1, max: 64 })).toThrow(
      'c: must be an integer from 1 to 64 (got 65)',
    );
    expect(integerOption('c', 0, 2, { min: 0, max: 64 })).toBe(0);
  });

  it('checkInteger refuses undefined', () => {
    expect(() => checkInteger('x', undefined)).toThrow(/x: must be an integer at least 1 \(got undefined\)/);
  });
});
