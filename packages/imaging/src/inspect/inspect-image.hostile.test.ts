import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { type ByteSource, memorySource } from '../iso9660/read/byte-source.js';
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

async function refused(buf: Uint8Array, opts: Parameters<typeof assertSafeImage>[1] = {}) {
  const info = await inspectImage(memorySource(buf));
  try {
    assertSafeImage(info, opts);
  } catch (error) {
    if (!VmkitError.is(error)) throw error;
    return { info, error, rule: error.details.rule as string };
  }
  throw new Error(`image accepted: ${JSON.stringify(info)}`);
}

describe('inspectImage + assertSafeImage refuse hostile headers', () => {
  it('qcow2 with a backing file, naming it', async () => {
    const { rule, error, info } = await refused(qcow2(BigInt(GiB), { backing: '/etc/shadow' }));
    expect(rule).toBe('qcow2-backing-file');
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('/etc/shadow');
    expect(info.details.backingFile).toBe('/etc/shadow');
  });

  it('qcow2 with an external data file or unknown incompatible features', async () => {
    expect((await refused(qcow2(BigInt(GiB), { incompatible: 4n }))).rule).toBe('qcow2-data-file');
    const unknown = await refused(qcow2(BigInt(GiB), { incompatible: 1n << 40n }));
    expect(unknown.rule).toBe('qcow2-unknown-features');
    expect(unknown.error.message).toContain('0x10000000000');
  });

  it('a "raw" claim on a qcow2 with a backing file: both rules named', async () => {
    const { error } = await refused(qcow2(BigInt(GiB), { backing: 'base.img' }), { format: 'raw' });
    expect(error.details.rules).toEqual(['qcow2-backing-file', 'format-mismatch']);
  });

  it('truncated headers are CORRUPT', async () => {
    const { rule, error } = await refused(qcow2(BigInt(GiB)).subarray(0, 40));
    expect([rule, error.code]).toEqual(['truncated', 'CORRUPT']);
    const beyond = qcow2(BigInt(GiB), { backing: 'x' });
    new DataView(beyond.buffer).setBigUint64(8, 1n << 40n);
    expect((await refused(beyond)).rule).toBe('truncated');
    expect((await refused(vdi(1, 1n).subarray(0, 0x100))).rule).toBe('truncated');
  });

  it('an absurd virtual size', async () => {
    expect((await refused(qcow2(1n << 50n))).rule).toBe('virtual-size-limit');
    expect((await refused(qcow2(1n << 63n))).rule).toBe('malformed');
    expect((await refused(qcow2(BigInt(2 * GiB)), { maxVirtualSize: GiB })).error.message).toContain(
      'exceeds the limit',
    );
  });

  it('QED at all', async () => {
    const b = bytes(4096);
    b.dv.setUint32(0, 0x00444551, true);
    b.dv.setBigUint64(48, BigInt(GiB), true);
    const { rule, info } = await refused(b.buf);
    expect([rule, info.format, info.virtualSize]).toEqual(['qed', 'qed', GiB]);
  });

  it('VMDK extents naming host files, in a sparse header and in a descriptor file', async () => {
    const sparse = vmdkSparse(vmdkDescriptor('monolithicSparse', 'RW 2048 SPARSE "/etc/passwd"'));
    expect((await refused(sparse)).rule).toBe('vmdk-extent-path');
    const flat = Buffer.from(vmdkDescriptor('monolithicFlat', 'RW 2048 FLAT "/dev/sda" 0'));
    const { error, info } = await refused(flat);
    expect(info.format).toBe('vmdk');
    expect(error.details.rules).toEqual(['vmdk-create-type', 'vmdk-extent-path', 'vmdk-extent-path']);
    const sibling = vmdkSparse(
      vmdkDescriptor('streamOptimized', 'RW 2048 SPARSE "a.vmdk"\nRW 8 FLAT "b.raw" 0'),
    );
    expect((await refused(sibling)).rule).toBe('vmdk-extent-path');
  });

  it('VMDK descriptors out of bounds, without reading them', async () => {
    const far = await refused(vmdkSparse(vmdkDescriptor('monolithicSparse', ''), { at: 1n << 40n }));
    expect(far.rule).toBe('vmdk-descriptor-bounds');
    const huge = await refused(vmdkSparse('', { sectors: 1n << 30n, fileSize: 2 * 1024 * 1024 }));
    expect(huge.rule).toBe('vmdk-descriptor-bounds');
    expect(huge.info.bytesRead).toBeLessThanOrEqual(64 * 1024 + 512);
    const big = new Uint8Array(128 * 1024).fill(0x20);
    big.set(Buffer.from(vmdkDescriptor('monolithicSparse', 'RW 1 SPARSE "x"')));
    expect((await refused(big)).rule).toBe('vmdk-descriptor-bounds');
  });

  it('differencing VHD, VHDX and VDI images', async () => {
    expect((await refused(vhdDynamic(4, BigInt(GiB)))).rule).toBe('vhd-differencing');
    expect((await refused(vhdx(BigInt(GiB), 0x2))).rule).toBe('vhdx-parent');
    expect((await refused(vdi(4, BigInt(GiB)))).rule).toBe('vdi-differencing');
  });

  it('more than one format at once', async () => {
    const polyglot = bytes(196_608 + 512);
    polyglot.buf.set(qcow2(BigInt(GiB)));
    vhdFooter(polyglot, 196_608, 2, BigInt(GiB));
    const both = await refused(polyglot.buf);
    expect([both.rule, both.info.format]).toEqual(['multiple-formats', 'qcow2']);
    const iso = qcow2(BigInt(GiB));
    iso.set(Buffer.from('\x01CD001'), 32768);
    expect((await refused(iso)).error.message).toContain('qcow2 and iso');
  });

  it('a claimed format that is not the one found, or one not allowed', async () => {
    expect((await refused(vdi(1, BigInt(GiB)), { format: 'vmdk' })).rule).toBe('format-mismatch');
    expect((await refused(vdi(1, BigInt(GiB)), { formats: ['qcow2', 'raw'] })).rule).toBe(
      'format-not-allowed',
    );
  });

  it('headers that would need more than the read budget', async () => {
    const info = await inspectImage(memorySource(vhdx(BigInt(GiB))), { maxReadBytes: 65_536 + 512 });
    expect(info.issues[0]).toMatch(/^read-budget: /);
    expect(info.bytesRead).toBeLessThanOrEqual(65_536 + 512);
  });

  it('reads at most 1 MiB of a 10 TiB source whatever its headers say', async () => {
    const head = vhdx(BigInt(GiB));
    let read = 0;
    const source: ByteSource = {
      size: 10 * 1024 ** 4,
      async read(offset, length) {
        read += length;
        const out = new Uint8Array(length);
        if (offset < head.length) out.set(head.subarray(offset, offset + length));
        return out;
      },
      async close() {},
    };
    const info = await inspectImage(source);
    expect([info.format, info.virtualSize]).toEqual(['vhdx', GiB]);
    expect(read).toBe(info.bytesRead);
    expect(read).toBeLessThan(1024 * 1024);
  });

  it('honours an AbortSignal', async () => {
    const error = await inspectImage(memorySource(qcow2(1n)), { signal: AbortSignal.abort() }).catch(
      (e) => e,
    );
    expect(VmkitError.is(error, 'ABORTED')).toBe(true);
  });
});
