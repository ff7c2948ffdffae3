import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { writeIso9660 } from '../iso-writer.js';
import { readIso9660 } from './iso-reader.js';

/** Replaces the first occurrence of `from` by `to` (same length) in `bytes`. */
function patch(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const out = bytes.slice();
  const at = Buffer.from(out).indexOf(Buffer.from(from, 'latin1'));
  expect(at).toBeGreaterThan(0);
  out.set(Buffer.from(to, 'latin1'), at);
  return out;
}

describe('readIso9660', () => {
  it('reads from a path as from bytes, and reports NOT_FOUND / INVALID_ARGUMENT for bad reads', async () => {
    const iso = await writeIso9660([{ path: 'a/b.txt', content: 'hello' }], { volumeId: 'PATHS' });
    const dir = await mkdtemp(join(tmpdir(), 'vmkit-read-'));
    try {
      await writeFile(join(dir, 'x.iso'), iso);
      const image = await readIso9660(join(dir, 'x.iso'));
      expect(image.volumeId).toBe('PATHS');
      expect(image.files.map((f) => [f.path, f.type, f.size])).toEqual([
        ['a', 'directory', 0],
        ['a/b.txt', 'file', 5],
      ]);
      expect(new TextDecoder().decode(await image.readFile('/a/b.txt'))).toBe('hello');
      await expect(image.readFile('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(image.readFile('a')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(readIso9660(join(dir, 'missing.iso'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['..', 'a rock ridge name of ..'],
    ['a/', 'a rock ridge name with a slash'],
    ['.\u0000', 'a rock ridge name with NUL'],
  ])('refuses %j (%s) that could escape the target directory', async (evil) => {
    const iso = await writeIso9660([{ path: 'zq', content: 'x' }], { volumeId: 'EVIL', joliet: false });
    const error = await readIso9660(
      patch(iso, 'NM\u0007\u0001\u0000zq', `NM\u0007\u0001\u0000${evil}`),
    ).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'CORRUPT')).toBe(true);
    expect((error as Error).message).toMatch(/could escape the target directory/);
  });

  it('refuses a directory that contains itself', async () => {
    const iso = await writeIso9660([{ path: 'd/f', content: 'x' }], {
      volumeId: 'LOOP',
      rockRidge: false,
      joliet: false,
      padding: 0,
    });
    const image = await readIso9660(iso);
    const d = image.files.find((f) => f.path === 'D')?.extents[0];
    const root = image.primary.root;
    // Point d's record (in the root) back at the root's extent.
    const out = iso.slice();
    const view = Buffer.from(out.buffer, out.byteOffset, out.length);
    const rec = view.indexOf(Buffer.from('\u0001D', 'latin1'), root.lba * 2048) - 32;
    expect(view.readUInt32LE(rec + 2)).toBe(d?.lba);
    view.writeUInt32LE(root.lba, rec + 2);
    view.writeUInt32BE(root.lba, rec + 6);
    await expect(readIso9660(out)).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it('refuses truncated images and non-ISO bytes with CORRUPT', async () => {
    const iso = await writeIso9660([{ path: 'f', content: new Uint8Array(10000) }], {
      volumeId: 'T',
      padding: 0,
    });
    await expect(readIso9660(new Uint8Array(100))).rejects.toMatchObject({ code: 'CORRUPT' });
    await expect(readIso9660(new Uint8Array(40 * 2048))).rejects.toMatchObject({ code: 'CORRUPT' });
    const cut = await readIso9660(iso.subarray(0, iso.length - 4096));
    await expect(cut.readFile('f')).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it('chooses namespaces on request and refuses missing ones', async () => {
    const iso = await writeIso9660([{ path: 'Mixed Case.txt', content: 'x' }], {
      volumeId: 'NS',
      rockRidge: false,
    });
    expect((await readIso9660(iso)).namespace).toBe('joliet');
    expect((await readIso9660(iso)).files[0]?.path).toBe('Mixed Case.txt');
    expect((await readIso9660(iso, { namespace: 'plain' })).files[0]?.path).toBe('MIXED_CA.TXT');
    await expect(readIso9660(iso, { namespace: 'rockridge' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    const plain = await writeIso9660([{ path: 'x' }], { volumeId: 'NS', rockRidge: false, joliet: false });
    await expect(readIso9660(plain, { namespace: 'joliet' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});
