import { describe, expect, it } from 'vitest';
import { parseKernelParams, parseRemoveParams, patchKernelArgs } from './kernel-params.js';

const params = (text: string) => parseKernelParams(text);

describe('parseKernelParams', () => {
  it('splits keys, values and quoted values', () => {
    expect(
      params('  auto=true  priority=critical quiet preseed/x="a b" '.replace('preseed/x', 'preseed.x')),
    ).toEqual([
      { key: 'auto', text: 'auto=true' },
      { key: 'priority', text: 'priority=critical' },
      { key: 'quiet', text: 'quiet' },
      { key: 'preseed.x', text: 'preseed.x="a b"' },
    ]);
  });

  it.each([
    ['a=1\nb=2', /parameter 'a=1' contains a newline/],
    ['a=1 b\u0000', /parameter 'b' contains a NUL/],
    ['a="open', /parameter 'a="open' has an unbalanced double quote/],
    ['ok bad/key=1', /parameter 'bad\/key=1': keys are/],
    ['ok -- init', /'--' is not a parameter/],
    ['x=1 ---', /'---' is not a parameter/],
    ['a=b"c"', /only a whole value may be double-quoted/],
    ['   ', /at least one parameter/],
  ])('refuses %j naming the parameter', (input, message) => {
    expect(() => params(input)).toThrow(message);
    try {
      params(input);
    } catch (error) {
      expect((error as { code: string }).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('refuses non-strings and over-long input', () => {
    expect(() => parseKernelParams(42)).toThrow(/kernelParams: must be a string/);
    expect(() => parseKernelParams('a'.repeat(1025))).toThrow(/at most 1024/);
  });

  it('validates the keys to remove', () => {
    expect(parseRemoveParams(['quiet', 'splash'])).toEqual(['quiet', 'splash']);
    expect(parseRemoveParams(undefined)).toEqual([]);
    expect(() => parseRemoveParams(['ok', 'no way'])).toThrow(/removeParams\[1\]/);
    expect(() => parseRemoveParams('quiet')).toThrow(/must be an array/);
  });
});

describe('patchKernelArgs', () => {
  const add = params('m=1 q="x y"');
  it('adds before a standalone -- or ---, keeping what follows for init', () => {
    expect(patchKernelArgs(' ro quiet -- single x=2', add, new Set())).toBe(
      'ro quiet m=1 q="x y" -- single x=2',
    );
    expect(patchKernelArgs('ro --- a', add, new Set())).toBe('ro m=1 q="x y" --- a');
    expect(patchKernelArgs('ro a--b', add, new Set())).toBe('ro a--b m=1 q="x y"');
    expect(patchKernelArgs('', add, new Set())).toBe('m=1 q="x y"');
  });

  it('removes keys before -- only and does not repeat a parameter already there', () => {
    expect(patchKernelArgs('quiet splash=1 m=1 -- quiet', add, new Set(['quiet', 'splash']))).toBe(
      'm=1 q="x y" -- quiet',
    );
  });

  it('keeps quoted words whole', () => {
    expect(patchKernelArgs('a="b -- c" d', add, new Set(['d']))).toBe('a="b -- c" m=1 q="x y"');
  });
});
