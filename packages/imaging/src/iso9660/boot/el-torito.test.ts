import { describe, expect, it } from 'vitest';
import { read16le, read32le } from '../../util/bytes.js';
import { crc32 } from '../../util/crc32.js';
import { writeIso9660 } from '../iso-writer.js';
import { readIso9660 } from '../read/iso-reader.js';
import { bootInfoChecksum, encodeBootCatalog, patchBootImage } from './el-torito-encode.js';

const SECTOR = 2048;
const bios = new Uint8Array(5000).map((_, i) => (i * 7) & 0xff);
const efi = new Uint8Array(1440 * 1024).fill(0xe5);
const entries = [
  { path: 'isolinux/isolinux.bin', content: bios },
  { path: 'boot/efi.img', content: efi },
  { path: 'isolinux/isolinux.cfg', content: 'default x\n' },
];
const bootOptions = {
  images: [
    { platform: 'bios' as const, image: 'isolinux/isolinux.bin', bootInfoTable: true, grub2BootInfo: true },
    { platform: 'efi' as const, image: 'boot/efi.img' },
  ],
  catalogPath: 'isolinux/boot.cat',
};

async function lbaOf(image: Uint8Array, path: string): Promise<number> {
  const iso = await readIso9660(image);
  return iso.files.find((f) => f.path === path)?.extents[0]?.lba ?? -1;
}

describe('El Torito boot catalogue', () => {
  it('encodes a validation entry summing to zero, the default entry and a final EFI section', () => {
    const cat = encodeBootCatalog([
      { platform: 'bios', loadSize: 4, lba: 40 },
      { platform: 'efi', loadSize: 2880, lba: 41 },
    ]);
    expect([cat[0], cat[1], cat[30], cat[31]]).toEqual([1, 0, 0x55, 0xaa]);
    let sum = 0;
    for (let i = 0; i < 32; i += 2) sum = (sum + read16le(cat, i)) & 0xffff;
    expect(sum).toBe(0);
    expect([cat[32], cat[33], read16le(cat, 38), read32le(cat, 40)]).toEqual([0x88, 0, 4, 40]);
    expect([cat[64], cat[65], read16le(cat, 66)]).toEqual([0x91, 0xef, 1]);
    expect([cat[96], read16le(cat, 102), read32le(cat, 104)]).toEqual([0x88, 2880, 41]);
  });

  it('is written with a boot record the reader follows, pointing at the images', async () => {
    const image = await writeIso9660(entries, { volumeId: 'BOOT', boot: bootOptions });
    const boot = image.subarray(17 * SECTOR, 18 * SECTOR);
    expect(boot[0]).toBe(0);
    expect(new TextDecoder().decode(boot.subarray(1, 6))).toBe('CD001');
    expect(new TextDecoder().decode(boot.subarray(7, 30))).toBe('EL TORITO SPECIFICATION');
    const iso = await readIso9660(image);
    const catalogLba = read32le(boot, 71);
    expect(iso.files.find((f) => f.path === 'isolinux/boot.cat')?.extents[0]?.lba).toBe(catalogLba);
    expect(iso.bootCatalog?.entries.map((e) => [e.platform, e.mediaType, e.sectorCount, e.loadRba])).toEqual([
      ['x86', 'no-emulation', 4, await lbaOf(image, 'isolinux/isolinux.bin')],
      ['efi', 'no-emulation', 2880, await lbaOf(image, 'boot/efi.img')],
    ]);
  });

  it('patches the BIOS image: GRUB boot address at 2548, then the boot information table', async () => {
    const image = await writeIso9660(entries, { volumeId: 'BOOT', boot: bootOptions });
    const lba = await lbaOf(image, 'isolinux/isolinux.bin');
    const written = image.subarray(lba * SECTOR, lba * SECTOR + bios.length);
    expect(read32le(written, 8)).toBe(16);
    expect(read32le(written, 12)).toBe(lba);
    expect(read32le(written, 16)).toBe(bios.length);
    expect(read32le(written, 2548)).toBe(lba * 4 + 5);
    expect(read32le(written, 20)).toBe(bootInfoChecksum(written));
    expect(written.subarray(24, 64).every((b) => b === 0)).toBe(true);
    expect(written.subarray(64, 2548)).toEqual(bios.subarray(64, 2548));
    expect(bios[8]).toBe(56); // the caller's bytes are left alone
  });

  it('sums a boot image tail that is not a whole word', () => {
    const bytes = new Uint8Array(70);
    bytes[64] = 1;
    bytes[68] = 2;
    bytes[69] = 1;
    expect(bootInfoChecksum(bytes)).toBe(1 + 0x0102);
    patchBootImage(bytes, 9, { bootInfoTable: true });
    expect(read32le(bytes, 20)).toBe(1 + 0x0102);
  });

  it('records a hidden boot image after the files, with no directory record, the GPT ESP on it', async () => {
    const hidden = new Uint8Array(4096).fill(0xab);
    const image = await writeIso9660(entries, {
      volumeId: 'HIDDEN',
      boot: {
        images: [
          { platform: 'bios', image: 'isolinux/isolinux.bin' },
          { platform: 'efi', image: 'appended-efi', content: hidden },
        ],
        hybrid: { mbrCode: new Uint8Array(432), style: 'grub2' },
      },
    });
    const iso = await readIso9660(image);
    const efiEntry = iso.bootCatalog?.entries[1];
    const lastFile = Math.max(
      ...iso.files.flatMap((f) => (f.type === 'file' ? [f.extents[0]?.lba ?? 0] : [])),
    );
    expect(efiEntry?.loadRba).toBeGreaterThan(lastFile);
    expect(efiEntry?.sectorCount).toBe(8);
    const at = (efiEntry?.loadRba ?? 0) * SECTOR;
    expect(image.subarray(at, at + hidden.length)).toEqual(hidden);
    expect(iso.files.map((f) => f.path)).not.toContain('appended-efi');
    const esp = new DataView(image.buffer, image.byteOffset + 1024);
    expect(Number(esp.getBigUint64(32, true))).toBe((efiEntry?.loadRba ?? 0) * 4);
  });

  it('refuses a boot image that is not among the entries, and a catalogue path already used', async () => {
    await expect(
      writeIso9660(entries, { volumeId: 'B', boot: { images: [{ platform: 'bios', image: 'nope.bin' }] } }),
    ).rejects.toThrow(/options.boot.images\[0\].image: 'nope.bin' must be a non-empty file/);
    await expect(
      writeIso9660(entries, {
        volumeId: 'B',
        boot: { ...bootOptions, catalogPath: 'isolinux/isolinux.cfg' },
      }),
    ).rejects.toThrow(/options.boot.catalogPath/);
    await expect(
      writeIso9660(entries, {
        volumeId: 'B',
        boot: { images: [{ platform: 'efi', image: 'boot/efi.img', bootInfoTable: true }] },
      }),
    ).rejects.toThrow(/bios images only/);
  });
});

describe('hybrid system area', () => {
  const mbrCode = new Uint8Array(432).fill(0x90);

  it('isohybrid style: boot code, image address, bootable partition 1 and EFI partition 2, GPT with an ESP', async () => {
    const image = await writeIso9660(entries, {
      volumeId: 'HYB',
      boot: { ...bootOptions, hybrid: { mbrCode, style: 'isohybrid' } },
    });
    const blocks = image.length / 512;
    const biosLba = await lbaOf(image, 'isolinux/isolinux.bin');
    const efiLba = await lbaOf(image, 'boot/efi.img');
    expect(image.subarray(0, 432)).toEqual(mbrCode);
    expect(read32le(image, 432)).toBe(biosLba * 4);
    expect([image[510], image[511]]).toEqual([0x55, 0xaa]);
    expect([image[446], image[450], read32le(image, 454), read32le(image, 458)]).toEqual([
      0x80,
      0x00,
      0,
      blocks,
    ]);
    expect([image[466], read32le(image, 470), read32le(image, 474)]).toEqual([
      0xef,
      efiLba * 4,
      efi.length / 512,
    ]);
    const header = image.subarray(512, 1024);
    expect(new TextDecoder().decode(header.subarray(0, 8))).toBe('EFI PART');
    const h = new DataView(header.buffer, header.byteOffset);
    const copy = header.slice(0, 92);
    copy.fill(0, 16, 20);
    expect(h.getUint32(16, true)).toBe(crc32(copy));
    expect(Number(h.getBigUint64(32, true))).toBe(blocks - 1);
    expect(h.getUint32(88, true)).toBe(crc32(image.subarray(1024, 1024 + 128 * 128)));
    const esp = new DataView(image.buffer, image.byteOffset + 1024);
    expect(Buffer.from(image.subarray(1024, 1040)).toString('hex')).toBe('28732ac11ff8d211ba4b00a0c93ec93b');
    expect(Number(esp.getBigUint64(32, true))).toBe(efiLba * 4);
    expect(Number(esp.getBigUint64(40, true))).toBe(efiLba * 4 + efi.length / 512 - 1);
    const backup = image.subarray(image.length - 512);
    expect(new TextDecoder().decode(backup.subarray(0, 8))).toBe('EFI PART');
    const b = new DataView(backup.buffer, backup.byteOffset);
    expect(Number(b.getBigUint64(24, true))).toBe(blocks - 1);
    expect(Number(b.getBigUint64(72, true))).toBe(blocks - 33);
    expect(image.subarray(image.length - 33 * 512, image.length - 512)).toEqual(
      image.subarray(1024, 1024 + 16384),
    );
    const iso = await readIso9660(image);
    expect(iso.files.map((f) => f.path)).toContain('boot/efi.img');
  });

  it('grub2 style: image address plus 4 and a protective MBR', async () => {
    const image = await writeIso9660(entries, {
      volumeId: 'HYB',
      boot: { ...bootOptions, hybrid: { mbrCode, style: 'grub2', diskSignature: 0x12345678 } },
    });
    const biosLba = await lbaOf(image, 'isolinux/isolinux.bin');
    expect(read32le(image, 432)).toBe(biosLba * 4 + 4);
    expect(read32le(image, 440)).toBe(0x12345678);
    expect([image[446], image[450], read32le(image, 454), read32le(image, 458)]).toEqual([
      0,
      0xee,
      1,
      image.length / 512 - 1,
    ]);
    expect(image[466]).toBe(0);
  });

  it('needs a BIOS image for the boot code', async () => {
    await expect(
      writeIso9660(entries, {
        volumeId: 'B',
        boot: { images: [{ platform: 'efi', image: 'boot/efi.img' }], hybrid: { mbrCode, style: 'grub2' } },
      }),
    ).rejects.toThrow(/options.boot.hybrid: needs a bios boot image/);
  });
});
