import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFat } from '../fat/fat-writer.js';
import { readFat } from '../fat/read/fat-reader.js';
import type { IsoBootOptions } from '../iso9660/boot/iso-boot-options.js';
import { writeIso9660ToFile } from '../iso9660/iso-writer.js';
import { readIso9660 } from '../iso9660/read/iso-reader.js';
import type { MediaEntry } from '../media-entry.js';
import { remasterBootIso } from './remaster-boot-iso.js';

let dir: string;
const md5 = (text: string | Uint8Array) => createHash('md5').update(text).digest('hex');
const isolinuxCfg = 'label live\n  kernel /live/vmlinuz\n  append initrd=/live/initrd quiet -- init-arg\n';
const grubCfg = 'menuentry x {\n  linux /live/vmlinuz quiet\n}\n';
const kernel = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
const bios = new Uint8Array(4096).fill(0x33);

async function makeIso(name: string, entries: MediaEntry[], boot?: IsoBootOptions): Promise<string> {
  const path = join(dir, name);
  await writeIso9660ToFile(entries, path, { volumeId: 'SRC_VOL', ...(boot ? { boot } : {}) });
  return path;
}

const biosBoot: IsoBootOptions = {
  images: [{ platform: 'bios', image: 'isolinux/isolinux.bin', bootInfoTable: true }],
  catalogPath: 'isolinux/boot.cat',
};

async function leftovers(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith('.') || f.startsWith('out'));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-remaster-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('remasterBootIso', () => {
  it('patches isolinux, GRUB and the EFI image, updates md5sum.txt and keeps the rest', async () => {
    const efi = await writeFat(
      [
        { path: 'EFI/BOOT/BOOTX64.EFI', content: 'efi-binary' },
        { path: 'boot/grub/grub.cfg', content: grubCfg },
      ],
      { label: 'EFIBOOT', sizeBytes: 1024 * 1024 },
    );
    const source = await makeIso(
      'full.iso',
      [
        { path: 'isolinux/isolinux.bin', content: bios },
        { path: 'isolinux/isolinux.cfg', content: isolinuxCfg },
        { path: 'boot/grub/grub.cfg', content: grubCfg },
        { path: 'boot/grub/efi.img', content: efi },
        { path: 'live/vmlinuz', content: kernel },
        {
          path: 'md5sum.txt',
          content: `${md5(isolinuxCfg)}  ./isolinux/isolinux.cfg\n${md5(kernel)}  ./live/vmlinuz\n`,
        },
      ],
      { ...biosBoot, images: [...biosBoot.images, { platform: 'efi', image: 'boot/grub/efi.img' }] },
    );
    const output = join(dir, 'out-full.iso');
    const progress: number[] = [];
    const result = await remasterBootIso({
      source,
      output,
      kernelParams: 'auto=true url="http://x/y z"',
      removeParams: ['quiet'],
      onProgress: (e) => progress.push(e.fraction ?? 0),
    });
    expect(result.patched).toEqual([
      'boot/grub/grub.cfg',
      'isolinux/isolinux.cfg',
      'boot/grub/efi.img:/boot/grub/grub.cfg',
    ]);
    expect(result.bootEntries).toEqual([
      { platform: 'bios', image: 'isolinux/isolinux.bin' },
      { platform: 'efi', image: 'boot/grub/efi.img' },
    ]);
    expect(progress.at(-1)).toBe(1);
    const iso = await readIso9660(output);
    expect(iso.volumeId).toBe('SRC_VOL');
    expect(result.bytes).toBe(iso.primary.volumeSpaceSize * 2048);
    const text = async (p: string) => new TextDecoder().decode(await iso.readFile(p));
    const newCfg = await text('isolinux/isolinux.cfg');
    expect(newCfg).toContain('append initrd=/live/initrd auto=true url="http://x/y z" -- init-arg');
    expect(await text('boot/grub/grub.cfg')).toContain('linux /live/vmlinuz auto=true url="http://x/y z"\n');
    expect(await iso.readFile('live/vmlinuz')).toEqual(kernel);
    expect(await text('md5sum.txt')).toBe(
      `${md5(newCfg)}  ./isolinux/isolinux.cfg\n${md5(kernel)}  ./live/vmlinuz\n`,
    );
    const fat = await readFat(await iso.readFile('boot/grub/efi.img'));
    expect(fat.label).toBe('EFIBOOT');
    expect(new TextDecoder().decode(await fat.readFile('boot/grub/grub.cfg'))).toContain('auto=true');
    expect(new TextDecoder().decode(await fat.readFile('EFI/BOOT/BOOTX64.EFI'))).toBe('efi-binary');
    expect(iso.bootCatalog?.entries.map((e) => e.platform)).toEqual(['x86', 'efi']);
    expect(iso.files.filter((f) => f.path === 'isolinux/boot.cat')).toHaveLength(1);
    const renamed = await remasterBootIso({
      source,
      output: join(dir, 'out-vol.iso'),
      kernelParams: 'a=1',
      volumeId: 'NEW_VOL',
    });
    expect(renamed.bytes).toBeGreaterThan(0);
    expect((await readIso9660(join(dir, 'out-vol.iso'))).volumeId).toBe('NEW_VOL');
  });

  it('validates parameters before reading anything, leaving nothing at output', async () => {
    const output = join(dir, 'out-bad.iso');
    await expect(
      remasterBootIso({ source: '/nonexistent.iso', output, kernelParams: 'ok "bad' }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/kernelParams: parameter '"bad' has an unbalanced/),
    });
    await expect(remasterBootIso({ source: output, output, kernelParams: 'a' })).rejects.toThrow(
      /output: must differ/,
    );
    await expect(
      remasterBootIso({ source: join(dir, 'missing.iso'), output, kernelParams: 'a' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await leftovers()).not.toContain('out-bad.iso');
  });

  it('calls an image without El Torito, or without boot configuration, UNSUPPORTED naming what it found', async () => {
    const plain = await makeIso('plain.iso', [{ path: 'boot/grub/grub.cfg', content: grubCfg }]);
    await expect(
      remasterBootIso({ source: plain, output: join(dir, 'out-1.iso'), kernelParams: 'a' }),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/no El Torito boot catalogue/),
    });
    const noConfig = await makeIso(
      'noconfig.iso',
      [{ path: 'isolinux/isolinux.bin', content: bios }],
      biosBoot,
    );
    await expect(
      remasterBootIso({ source: noConfig, output: join(dir, 'out-2.iso'), kernelParams: 'a' }),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/found no isolinux, syslinux or GRUB configuration/),
    });
    const noKernel = await makeIso(
      'nokernel.iso',
      [
        { path: 'isolinux/isolinux.bin', content: bios },
        { path: 'boot/grub/grub.cfg', content: 'set timeout=1\n' },
      ],
      biosBoot,
    );
    await expect(
      remasterBootIso({ source: noKernel, output: join(dir, 'out-3.iso'), kernelParams: 'a' }),
    ).rejects.toThrow(/found boot\/grub\/grub.cfg but no kernel line/);
    expect(await leftovers()).toEqual(['out-full.iso', 'out-vol.iso']);
  });

  it('calls garbage CORRUPT and leaves no temporary file; honours an aborted signal', async () => {
    const junk = join(dir, 'junk.iso');
    await writeFile(junk, new Uint8Array(200_000).fill(0x41));
    await expect(
      remasterBootIso({ source: junk, output: join(dir, 'out-junk.iso'), kernelParams: 'a' }),
    ).rejects.toMatchObject({
      code: 'CORRUPT',
    });
    const source = await makeIso(
      'abort.iso',
      [
        { path: 'isolinux/isolinux.bin', content: bios },
        { path: 'isolinux/isolinux.cfg', content: isolinuxCfg },
      ],
      biosBoot,
    );
    const controller = new AbortController();
    controller.abort();
    await expect(
      remasterBootIso({
        source,
        output: join(dir, 'out-abort.iso'),
        kernelParams: 'a',
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await leftovers()).toEqual(['out-full.iso', 'out-vol.iso']);
  });
});
