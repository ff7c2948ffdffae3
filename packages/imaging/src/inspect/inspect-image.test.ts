import { describe, expect, it } from 'vitest';
import { memorySource } from '../iso9660/read/byte-source.js';
import { assertSafeImage } from './assert-safe-image.js';
import {
  bytes,
  qcow2,
  vdi,
  vhdDynamic,
  vhdFooter,
  vhdx,
  vmdkDescriptor,
  vmdkSparse,
} from './crafted-headers.fixture.js';
import { inspectImage } from './inspect-image.js';

const GiB = 1024 ** 3;
const inspect = (buf: Uint8Array) => inspectImage(memorySource(buf));

describe('inspectImage on well-formed headers', () => {
  it('reads each format and its virtual size, with no issues', async () => {
    const sparse = vmdkSparse(vmdkDescriptor('streamOptimized', 'RW 2048 SPARSE "disk.vmdk"'));
    const fixed = bytes(4096 + 512);
    vhdFooter(fixed, 4096, 2, 4096n);
    const cases: Array<[Uint8Array, string, number]> = [
      [qcow2(BigInt(GiB)), 'qcow2', GiB],
      [sparse, 'vmdk', 2048 * 512],
      [vhdDynamic(3, BigInt(GiB)), 'vhd', GiB],
      [fixed.buf, 'vhd', 4096],
      [vhdx(BigInt(3 * GiB)), 'vhdx', 3 * GiB],
      [vdi(1, BigInt(GiB)), 'vdi', GiB],
      [new Uint8Array(8192), 'raw', 8192],
    ];
    for (const [buf, format, size] of cases) {
      const info = await inspect(buf);
      expect([info.format, info.virtualSize, info.issues]).toEqual([format, size, []]);
      expect(() => assertSafeImage(info, { format })).not.toThrow();
    }
  });

  it('names VMDK subformats and extents in details', async () => {
    const info = await inspect(vmdkSparse(vmdkDescriptor('monolithicSparse', 'RW 2048 SPARSE "a.vmdk"')));
    expect(info.details.createType).toBe('monolithicSparse');
    expect(info.details.extents).toEqual([{ access: 'RW', sectors: 2048, type: 'SPARSE', file: 'a.vmdk' }]);
  });

  it('sizes a VHD by CHS geometry unless its creator uses current_size, as qemu does', async () => {
    const b = bytes(4096 + 512);
    vhdFooter(b, 4096, 2, 4096n);
    b.text(4096 + 28, 'vpc ');
    b.dv.setUint16(4096 + 56, 2);
    b.dv.setUint8(4096 + 58, 2);
    b.dv.setUint8(4096 + 59, 3);
    expect((await inspect(b.buf)).virtualSize).toBe(2 * 2 * 3 * 512);
  });

  it('a fixed VHD whose content is a GPT disk is one VHD, not two formats', async () => {
    const b = bytes(8192 + 512);
    b.text(512, 'EFI PART');
    b.buf[510] = 0x55;
    b.buf[511] = 0xaa;
    vhdFooter(b, 8192, 2, 8192n);
    const info = await inspect(b.buf);
    expect([info.format, info.issues]).toEqual(['vhd', []]);
  });

  it('ISO, GPT and hybrid ISO count as raw for a raw claim', async () => {
    const iso = new Uint8Array(40_960);
    iso.set(Buffer.from('\x01CD001'), 32768);
    const hybrid = iso.slice();
    hybrid.set(Buffer.from('EFI PART'), 512);
    for (const [buf, format] of [
      [iso, 'iso'],
      [hybrid, 'iso'],
      [hybrid.slice(0, 4096), 'gpt'],
    ] as const) {
      const info = await inspect(buf);
      expect([info.format, info.issues]).toEqual([format, []]);
      expect(() => assertSafeImage(info, { format: 'raw', formats: ['raw'] })).not.toThrow();
    }
  });

  it('LUKS 1: the virtual size is what follows the payload offset', async () => {
    const b = bytes(8192);
    b.text(0, 'LUKS\xba\xbe');
    b.dv.setUint16(6, 1);
    b.text(8, 'aes');
    b.dv.setUint32(104, 4);
    const info = await inspect(b.buf);
    expect([info.format, info.virtualSize, info.details.cipher]).toEqual(['luks', 8192 - 2048, 'aes']);
  });

  it('finds a fixed VHD footer whatever the file size (tail overlapping the head included)', async () => {
    for (const data of [0, 4096, 65_536 - 256, 65_536, 200_000]) {
      const b = bytes(data + 512);
      vhdFooter(b, data, 2, BigInt(data));
      const info = await inspect(b.buf);
      expect([data, info.format, info.virtualSize]).toEqual([data, 'vhd', data]);
    }
  });

  it('reads only the first 64 KiB and last 512 bytes of a raw disk', async () => {
    const info = await inspect(new Uint8Array(4 * 1024 * 1024));
    expect(info.bytesRead).toBe(65_536 + 512);
  });
});
