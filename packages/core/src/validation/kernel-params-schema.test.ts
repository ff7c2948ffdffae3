import { describe, expect, it } from 'vitest';
import { kernelParamsSchema, masterSpecSchema } from './master-spec-schema.js';

const spec = (kernelParams: unknown) => ({
  id: 'installer',
  os: { family: 'debian', version: '12', arch: 'x86_64' },
  source: { type: 'iso', path: '/isos/debian.iso', kernelParams },
});

describe('kernelParamsSchema', () => {
  it('accepts keys, values and quoted values', () => {
    expect(kernelParamsSchema.parse('auto=true url="http://x/a b" quiet')).toBe(
      'auto=true url="http://x/a b" quiet',
    );
    expect(masterSpecSchema.safeParse(spec('auto=true')).success).toBe(true);
    const live = {
      ...spec(undefined),
      source: { type: 'bootIso', path: '/isos/live.iso', kernelParams: 'a=1' },
    };
    expect(masterSpecSchema.safeParse(live).success).toBe(true);
    const bad = { ...live, source: { ...live.source, kernelParams: 'a\nb' } };
    expect(masterSpecSchema.safeParse(bad).success).toBe(false);
  });

  it.each([
    ['a=1\nb=2', /newline/],
    ['a="open', /unbalanced/],
    ['bad/key=1', /keys of letters/],
    ['a -- b', /keys of letters/],
    ['', /at least one/],
    ['a'.repeat(1025), /1024/],
  ])('refuses %j', (input, message) => {
    const result = masterSpecSchema.safeParse(spec(input));
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(message);
    expect(result.error?.issues[0]?.path).toEqual(['source', 'kernelParams']);
  });
});
