import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeIso9660ToFile } from '../iso9660/iso-writer.js';
import { readIso9660 } from '../iso9660/read/iso-reader.js';
import { remasterBootIso } from './remaster-boot-iso.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-remaster-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const text = async (iso: string, path: string) =>
  Buffer.from(await (await readIso9660(iso)).readFile(path)).toString();

describe('remasterBootIso files (answer files on the installer ISO)', () => {
  it('adds files at the root, replaces one of the same path, and keeps the boot entry and the patch', async () => {
    const source = join(dir, 'src.iso');
    await writeIso9660ToFile(
      [
        { path: 'isolinux/isolinux.bin', content: new Uint8Array(4096).fill(0x33) },
        { path: 'isolinux/isolinux.cfg', content: 'label l\n  kernel /vmlinuz\n  append quiet\n' },
        { path: 'preseed.cfg', content: 'old answers\n' },
      ],
      source,
      {
        volumeId: 'SRC',
        boot: { images: [{ platform: 'bios', image: 'isolinux/isolinux.bin', bootInfoTable: true }] },
      },
    );
    const output = join(dir, 'out.iso');
    const result = await remasterBootIso({
      source,
      output,
      kernelParams: 'file=/cdrom/preseed.cfg',
      files: [
        { path: 'preseed.cfg', content: 'new answers\n' },
        { path: '/ks.cfg', content: 'kickstart\n' },
      ],
    });
    expect(result.bootEntries).toEqual([{ platform: 'bios', image: 'isolinux/isolinux.bin' }]);
    expect(await text(output, 'preseed.cfg')).toBe('new answers\n');
    expect(await text(output, 'ks.cfg')).toBe('kickstart\n');
    expect(await text(output, 'isolinux/isolinux.cfg')).toContain('append quiet file=/cdrom/preseed.cfg');
    const paths = (await readIso9660(output)).files.map((f) => f.path);
    expect(paths.filter((p) => p === 'preseed.cfg')).toHaveLength(1);
  });

  it.each([
    [[{ path: '../etc/x', content: 'x' }], /files\[0\]\.path/],
    [[{ path: 'd', type: 'directory' }], /files\[0\]: must be a regular file/],
    [
      [
        { path: 'a', content: '1' },
        { path: '/a', content: '2' },
      ],
      /files\[1\]\.path: duplicates a/,
    ],
  ])('refuses bad added files before reading anything (%#)', async (files, message) => {
    await expect(
      remasterBootIso({
        source: join(dir, 'missing.iso'),
        output: join(dir, 'x.iso'),
        kernelParams: 'a=1',
        files: files as never,
      }),
    ).rejects.toThrow(message);
  });
});
