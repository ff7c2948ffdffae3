import { describe, expect, it } from 'vitest';
import { populateVolume } from './populate-volume.js';

describe('populateVolume', () => {
  it('puts the content at offset 0 and zero-fills the rest', async () => {
    const volume = await populateVolume(4096, 'seed');
    expect(volume.length).toBe(4096);
    expect(Buffer.from(volume.subarray(0, 4)).toString()).toBe('seed');
    expect(volume.subarray(4).every((b) => b === 0)).toBe(true);
    expect((await populateVolume(3, Uint8Array.of(1, 2, 3))).join()).toBe('1,2,3');
  });

  it('refuses content larger than the volume and bad sizes', async () => {
    await expect(populateVolume(3, 'four')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'content' },
    });
    await expect(populateVolume(0, '')).rejects.toMatchObject({ details: { field: 'sizeBytes' } });
    await expect(populateVolume(1.5, '')).rejects.toMatchObject({ details: { field: 'sizeBytes' } });
    await expect(populateVolume(2 ** 40, '')).rejects.toMatchObject({ details: { field: 'sizeBytes' } });
  });
});
