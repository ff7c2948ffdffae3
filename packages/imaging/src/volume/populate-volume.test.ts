import { mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MediaSource } from '../media-entry.js';
import { populateVolume } from './populate-volume.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-populate-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const chunks = (count: number, size: number, fill = 7): MediaSource => ({
  size: count * size,
  async *open() {
    for (let i = 0; i < count; i++) yield new Uint8Array(size).fill(fill);
  },
});

describe('populateVolume', () => {
  it('writes the content at offset 0 and zeroes up to the size', async () => {
    const path = join(dir, 'v.img');
    expect(await populateVolume(path, 4096, 'seed')).toEqual({ path, size: 4096 });
    const bytes = await readFile(path);
    expect(bytes.length).toBe(4096);
    expect(bytes.subarray(0, 4).toString()).toBe('seed');
    expect(bytes.subarray(4).every((b) => b === 0)).toBe(true);
    await populateVolume(join(dir, 'b.img'), 3, Uint8Array.of(1, 2, 3));
    expect([...(await readFile(join(dir, 'b.img')))]).toEqual([1, 2, 3]);
  });

  it('streams a source chunk by chunk and leaves the rest of a large volume sparse', async () => {
    const path = join(dir, 'big.img');
    await populateVolume(path, 8 * 1024 ** 3, chunks(4, 1024 * 1024));
    const info = await stat(path);
    expect(info.size).toBe(8 * 1024 ** 3);
    expect(info.blocks * 512).toBeLessThan(64 * 1024 ** 2);
    const handle = await open(path, 'r');
    try {
      const head = new Uint8Array(4 * 1024 * 1024 + 16);
      await handle.read(head, 0, head.length, 0);
      expect(head.subarray(0, 4 * 1024 * 1024).every((b) => b === 7)).toBe(true);
      expect(head.subarray(4 * 1024 * 1024).every((b) => b === 0)).toBe(true);
    } finally {
      await handle.close();
    }
  });

  it('refuses bad sizes and oversized content before creating anything', async () => {
    const path = join(dir, 'x.img');
    await expect(populateVolume(path, 3, 'four')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'content' },
    });
    await expect(populateVolume(path, 0)).rejects.toMatchObject({ details: { field: 'sizeBytes' } });
    await expect(populateVolume(path, 1.5)).rejects.toMatchObject({ details: { field: 'sizeBytes' } });
    await expect(populateVolume(path, 2 * 1024 ** 4)).rejects.toMatchObject({
      details: { field: 'sizeBytes' },
    });
    await expect(populateVolume(path, 8, 42 as never)).rejects.toMatchObject({
      details: { field: 'content' },
    });
    await expect(populateVolume(join(dir, 'no', 'such', 'x.img'), 8)).rejects.toMatchObject({
      details: { field: 'path' },
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes the partial file when a source lies about its size or the signal fires', async () => {
    const liar: MediaSource = { size: 10, open: chunks(1, 4).open };
    await expect(populateVolume(join(dir, 'l.img'), 64, liar)).rejects.toMatchObject({ code: 'CORRUPT' });
    const caller = new AbortController();
    const slow: MediaSource = {
      size: 8,
      async *open() {
        yield new Uint8Array(4);
        caller.abort();
        yield new Uint8Array(4);
      },
    };
    await expect(
      populateVolume(join(dir, 'a.img'), 64, slow, { signal: caller.signal }),
    ).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(await readdir(dir)).toEqual([]);
  });
});
