import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { writeFat } from '../fat-writer.js';
import { readFat } from './fat-reader.js';

/** Sets FAT12 entry `n` of every FAT copy to `value`. */
function setFat12(img: Uint8Array, n: number, value: number): void {
  const view = new DataView(img.buffer, img.byteOffset, img.length);
  const bps = view.getUint16(11, true);
  const fats = img[16] ?? 0;
  const fatSectors = view.getUint16(22, true);
  for (let f = 0; f < fats; f++) {
    const at = (view.getUint16(14, true) + f * fatSectors) * bps + Math.floor((n * 3) / 2);
    const old = view.getUint16(at, true);
    view.setUint16(at, n % 2 === 0 ? (old & 0xf000) | value : (old & 0x000f) | (value << 4), true);
  }
}

async function volume(paths: string[]): Promise<Uint8Array> {
  return writeFat(
    paths.map((path) => ({ path, type: 'directory' as const })),
    { label: 'HOSTILE', sizeBytes: 2 * 1024 * 1024, fatType: 12 },
  );
}

describe('readFat on hostile volumes', () => {
  it('refuses a directory chain that runs into another directory', async () => {
    const img = await volume(['d', 'd/e']);
    const good = await readFat(img);
    const d = good.files.find((f) => f.path === 'd')?.cluster as number;
    const e = good.files.find((f) => f.path === 'd/e')?.cluster as number;
    expect(good.files.map((f) => f.path)).toEqual(['d', 'd/e']);
    // d's chain now continues into e's cluster: e would be listed and then read a second time.
    setFat12(img, d, e);
    const error = await readFat(img).catch((x: unknown) => x);
    expect(VmkitError.is(error, 'CORRUPT')).toBe(true);
    expect((error as Error).message).toMatch(/directory 'd\/e' reaches cluster \d+ already read/);
  });

  it('stops at maxDepth and maxEntries with CORRUPT', async () => {
    const img = await volume(['a', 'a/b', 'a/b/c', 'a/b/c/d']);
    expect((await readFat(img, { maxDepth: 4 })).files).toHaveLength(4);
    await expect(readFat(img, { maxDepth: 3 })).rejects.toMatchObject({
      code: 'CORRUPT',
      message: expect.stringMatching(/nest deeper than 3 at 'a\/b\/c\/d'/),
    });
    await expect(readFat(img, { maxEntries: 3 })).rejects.toMatchObject({
      code: 'CORRUPT',
      message: expect.stringMatching(/more than 3 entries/),
    });
  });

  it('refuses a boot sector whose data area starts past its end', async () => {
    const img = await volume(['a']);
    new DataView(img.buffer).setUint16(19, 8, true); // total sectors smaller than the FATs
    await expect(readFat(img)).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it.each([0, -2, 2.5, '1'])('refuses maxEntries / maxDepth of %j', async (bad) => {
    const img = await volume(['a']);
    await expect(readFat(img, { maxEntries: bad as number })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'options.maxEntries' },
    });
    await expect(readFat(img, { maxDepth: bad as number })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'options.maxDepth' },
    });
  });
});
