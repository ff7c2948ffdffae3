import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeIso9660ToFile } from '../iso9660/iso-writer.js';
import { readIso9660 } from '../iso9660/read/iso-reader.js';
import { remasterWithAnswers } from './answered-iso.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-answered-iso-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function installer(name: string, append: string): Promise<string> {
  const path = join(dir, name);
  await writeIso9660ToFile(
    [
      { path: 'isolinux/isolinux.bin', content: new Uint8Array(4096).fill(0x33) },
      { path: 'isolinux/isolinux.cfg', content: `label l\n  kernel /vmlinuz\n  ${append}\n` },
      { path: 'initrd.gz', content: 'plain initrd' },
    ],
    path,
    {
      volumeId: 'SRC',
      boot: { images: [{ platform: 'bios', image: 'isolinux/isolinux.bin', bootInfoTable: true }] },
    },
  );
  return path;
}

const files = new Map([['preseed.cfg', Buffer.from('answers\n')]]);

describe('remasterWithAnswers (the iso and initrd deliveries every provider shares)', () => {
  it('writes nothing without the iso or initrd delivery', async () => {
    const source = await installer('none.iso', 'append initrd=/initrd.gz');
    const output = join(dir, 'none-out.iso');
    const result = await remasterWithAnswers({
      source,
      output,
      answers: { delivery: ['drive', 'http'], files },
      kernelParams: '',
    });
    expect(result).toBeUndefined();
    await expect(stat(output)).rejects.toThrow();
  });

  it("http only: kernel parameters naming the build's answer server remaster a per-build copy (not the shared cache); others do not", async () => {
    const source = await installer('http.iso', 'append initrd=/initrd.gz');
    const url = 'http://10.0.2.2:40000/abcdefabcdefabcdefabcdefabcdefab';
    const out = await mkdtemp(join(dir, 'http-'));
    const output = join(out, 'answered.iso');
    const result = await remasterWithAnswers({
      source,
      output,
      answers: { delivery: ['http'], files, server: { url } },
      kernelParams: `url=${url}/preseed.cfg`,
    });
    expect(result?.file).toBe(output);
    expect(((await stat(output)).mode & 0o777).toString(8)).toBe('600');
    const iso = await readIso9660(output);
    expect(Buffer.from(await iso.readFile('isolinux/isolinux.cfg')).toString()).toContain(
      `url=${url}/preseed.cfg`,
    );
    // The answers themselves are served, not written on it.
    await expect(iso.readFile('preseed.cfg')).rejects.toThrow();
    const other = await remasterWithAnswers({
      source,
      output: join(out, 'other.iso'),
      answers: { delivery: ['http'], files, server: { url } },
      kernelParams: 'console=ttyS0',
    });
    expect(other).toBeUndefined();
  });

  it('iso and initrd: the files at the root, the initrd appended, the parameters on the line; mode 0600, no work folder left', async () => {
    const source = await installer('both.iso', 'append initrd=/initrd.gz');
    const out = await mkdtemp(join(dir, 'out-'));
    const output = join(out, 'answered.iso');
    const result = await remasterWithAnswers({
      source,
      output,
      answers: { delivery: ['iso', 'initrd'], files },
      kernelParams: 'file=/cdrom/preseed.cfg',
    });
    expect(result?.paths).toEqual(['preseed.cfg', 'initrd.gz']);
    expect((await stat(output)).mode & 0o777).toBe(0o600);
    const iso = await readIso9660(output);
    expect(Buffer.from(await iso.readFile('preseed.cfg')).toString()).toBe('answers\n');
    const initrd = Buffer.from(await iso.readFile('initrd.gz'));
    expect(initrd.subarray(0, 12).toString()).toBe('plain initrd');
    expect(initrd.length).toBeGreaterThan(12);
    expect(Buffer.from(await iso.readFile('isolinux/isolinux.cfg')).toString()).toContain(
      'file=/cdrom/preseed.cfg',
    );
    expect(await readdir(out)).toEqual(['answered.iso']);
  });

  it('refuses initrd when no boot configuration loads one, naming the field; nothing left', async () => {
    const source = await installer('noinitrd.iso', 'append quiet');
    const out = await mkdtemp(join(dir, 'out-'));
    const error = await remasterWithAnswers({
      source,
      output: join(out, 'answered.iso'),
      answers: { delivery: ['initrd'], files },
      kernelParams: '',
    }).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as VmkitError).details.field).toBe('source.unattended.delivery');
    expect(await readdir(out)).toEqual([]);
  });
});
