import { describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { assertFreeSpace, GROWING_VOLUME_FLOOR_BYTES, isNoSpaceError, noSpaceError } from './free-space.js';

const pool = { kind: 'pool', name: 'p1', field: 'pool' };

describe('free-space rules', () => {
  it('lets what fits through, to the byte', () => {
    expect(() =>
      assertFreeSpace(pool, 300, [
        { what: 'a', bytes: 100 },
        { what: 'b', bytes: 200 },
      ]),
    ).not.toThrow();
  });

  it('refuses what does not fit, naming the place, the field, free and needed bytes', () => {
    const error = (() => {
      try {
        assertFreeSpace(pool, 299, [
          { what: 'volume a', bytes: 100 },
          { what: 'overlay b', bytes: 200 },
        ]);
      } catch (e) {
        return e;
      }
    })();
    expect(isNoSpaceError(error)).toBe(true);
    const e = error as VmkitError;
    expect(e.code).toBe('PROVIDER');
    expect(e.fault).toBe('environment');
    expect(e.message).toBe(
      'disk full on pool p1: refused before writing anything: volume a 100, overlay b 200 bytes do not fit (299 bytes free, 300 bytes needed)',
    );
    expect(e.details).toEqual({
      reason: 'no-space',
      field: 'pool',
      pool: 'p1',
      freeBytes: 299,
      neededBytes: 300,
    });
  });

  it('names a place of several words in camel case and leaves out unknown numbers', () => {
    const e = noSpaceError({
      place: { kind: 'machine folder', name: '/m', field: 'machineFolder' },
      what: 'x',
    });
    expect(e.message).toBe('disk full on machine folder /m: x');
    expect(e.details).toEqual({ reason: 'no-space', field: 'machineFolder', machineFolder: '/m' });
  });

  it('tells the no-space error from others', () => {
    expect(isNoSpaceError(new VmkitError('PROVIDER', 'x'))).toBe(false);
    expect(isNoSpaceError(new Error('disk full'))).toBe(false);
    expect(GROWING_VOLUME_FLOOR_BYTES).toBe(16 * 1024 * 1024);
  });
});
