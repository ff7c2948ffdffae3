import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LibvirtContext } from '../libvirt-context.js';
import { CONSOLE_TAIL_BYTES, readConsoleLog } from './console-log.js';

/** A fake context holding one log volume of `log`'s bytes; records the ranges downloaded. */
function fake(log: Buffer) {
  const ranges: Array<{ offset?: number; length?: number }> = [];
  const ctx = {
    storage: {
      refresh: async () => {},
      find: async (name: string) => (name === 'x.log' ? { name } : undefined),
    },
    client: {
      storage: {
        volGetInfo: async () => ({ type: 0, capacity: log.length, allocation: log.length }),
        volDownload: async (_vol: unknown, range: { offset?: number; length?: number } = {}) => {
          ranges.push(range);
          const from = range.offset ?? 0;
          const to = range.length ? from + range.length : log.length;
          return Readable.from([log.subarray(from, to)]);
        },
      },
    },
  } as unknown as LibvirtContext;
  return { ctx, ranges };
}

describe('readConsoleLog', () => {
  it('downloads only the end of a long log', async () => {
    const log = Buffer.concat([Buffer.alloc(300 * 1024, 'a'), Buffer.from('Kernel panic - not syncing\n')]);
    const { ctx, ranges } = fake(log);
    const text = await readConsoleLog(ctx, 'x.log');
    expect(ranges).toEqual([{ offset: log.length - CONSOLE_TAIL_BYTES, length: 0 }]);
    expect(text?.length).toBe(CONSOLE_TAIL_BYTES);
    expect(text?.endsWith('Kernel panic - not syncing\n')).toBe(true);
  });

  it('reads a short log whole, and undefined for a missing one', async () => {
    const { ctx } = fake(Buffer.from('hello\n'));
    expect(await readConsoleLog(ctx, 'x.log')).toBe('hello\n');
    expect(await readConsoleLog(ctx, 'y.log')).toBeUndefined();
  });
});
