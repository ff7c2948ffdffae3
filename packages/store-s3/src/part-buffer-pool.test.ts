import { describe, expect, it } from 'vitest';
import { PartBufferPool } from './part-buffer-pool.js';

describe('PartBufferPool', () => {
  it('makes at most count buffers and hands released ones out again', async () => {
    const pool = new PartBufferPool(1024, 2);
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(a).not.toBe(b);
    expect(a.byteLength).toBe(1024);
    expect(pool.made).toBe(2);
    let third: Buffer | undefined;
    const waiting = pool.acquire().then((buffer) => {
      third = buffer;
    });
    await Promise.resolve();
    expect(third).toBeUndefined(); // all in use: the caller waits
    pool.release(a);
    await waiting;
    expect(third).toBe(a); // the same buffer, not a new one
    expect(pool.made).toBe(2);
    pool.release(b);
    expect(await pool.acquire()).toBe(b);
  });

  it('serves waiters in order', async () => {
    const pool = new PartBufferPool(16, 1);
    const only = await pool.acquire();
    const order: number[] = [];
    const first = pool.acquire().then((x) => {
      order.push(1);
      pool.release(x);
    });
    const second = pool.acquire().then(() => order.push(2));
    pool.release(only);
    await Promise.all([first, second]);
    expect(order).toEqual([1, 2]);
  });

  it('frees its buffers at once on dispose, and only when none is in use', async () => {
    const pool = new PartBufferPool(4096, 2);
    const a = await pool.acquire();
    const b = await pool.acquire();
    pool.release(a);
    pool.dispose(); // b is still in use: nothing is freed
    expect(a.byteLength).toBe(4096);
    pool.release(b);
    pool.dispose();
    expect(a.byteLength).toBe(0); // detached: the memory is gone, not left to the collector
    expect(b.byteLength).toBe(0);
    expect(pool.made).toBe(0);
    expect((await pool.acquire()).byteLength).toBe(4096); // a disposed pool makes new ones
  });

  it('rejects sizes and counts that are not positive integers', () => {
    expect(() => new PartBufferPool(0, 1)).toThrow(RangeError);
    expect(() => new PartBufferPool(16, 0)).toThrow(RangeError);
    expect(() => new PartBufferPool(1.5, 1)).toThrow(RangeError);
  });
});
