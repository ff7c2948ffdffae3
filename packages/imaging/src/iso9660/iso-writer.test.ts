import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmkitError } from '@vmkit/core/spi';
import { afterAll, describe, expect, it } from 'vitest';
import { fromStream, type MediaEntry } from '../media-entry.js';
import { read16be, read16le, read32be, read32le } from '../util/bytes.js';
import { planIso9660, writeIso9660, writeIso9660ToFile } from './iso-writer.js';
import { parseDirectory } from './read/directory-records.js';
import { readIso9660 } from './read/iso-reader.js';

const S = 2048;
const entries: MediaEntry[] = [
  { path: 'user-data', content: '#cloud-config\n' },
  { path: 'meta-data', content: 'instance-id: i-1\n' },
  { path: 'dir/sub/file.bin', content: new Uint8Array(5000).fill(7) },
  { path: 'link', target: `/${'t'.repeat(600)}` },
  { path: `${'long-name-'.repeat(24)}.txt`, content: 'x' },
];

/** Checks a both-endian 32-bit field and returns its value. */
function both32(buf: Uint8Array, off: number): number {
  expect(read32be(buf, off + 4)).toBe(read32le(buf, off));
  return read32le(buf, off);
}

describe('writeIso9660', () => {
  it('is deterministic and sized in whole sectors, padding included', async () => {
    const a = await writeIso9660(entries, { volumeId: 'cidata' });
    const b = await writeIso9660([...entries].reverse(), { volumeId: 'cidata' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.length % S).toBe(0);
    const pvd = a.subarray(16 * S, 17 * S);
    expect(both32(pvd, 80) * S).toBe(a.length);
    const withoutPadding = await writeIso9660(entries, { volumeId: 'cidata', padding: 0 });
    expect(a.length - withoutPadding.length).toBe(150 * S);
  });

  it('records descriptors with both-endian fields, the label verbatim and Joliet UCS-2', async () => {
    const iso = await writeIso9660(entries, { volumeId: 'config-2', publisher: 'vmkit tests' });
    const pvd = iso.subarray(16 * S, 17 * S);
    expect([pvd[0], String.fromCharCode(...pvd.subarray(1, 6)), pvd[6]]).toEqual([1, 'CD001', 1]);
    expect(String.fromCharCode(...pvd.subarray(40, 72)).trimEnd()).toBe('config-2');
    expect(String.fromCharCode(...pvd.subarray(318, 446)).trimEnd()).toBe('vmkit tests');
    expect(read16be(pvd, 130)).toBe(read16le(pvd, 128));
    expect(read16le(pvd, 128)).toBe(S);
    const svd = iso.subarray(17 * S, 18 * S);
    expect(svd[0]).toBe(2);
    expect(String.fromCharCode(...svd.subarray(88, 91))).toBe('%/E');
    expect(Buffer.from(svd.subarray(40, 56)).swap16().toString('utf16le')).toBe('config-2');
    expect(iso[18 * S]).toBe(255);
  });

  it('writes matching L and M path tables pointing at the directories', async () => {
    const iso = await writeIso9660(entries, { volumeId: 'x' });
    const pvd = iso.subarray(16 * S, 17 * S);
    const size = both32(pvd, 132);
    const l = iso.subarray(read32le(pvd, 140) * S);
    const m = iso.subarray(read32be(pvd, 148) * S);
    const names: string[] = [];
    for (let off = 0; off < size; ) {
      const len = l[off] as number;
      expect(m[off]).toBe(len);
      const lba = read32le(l, off + 2);
      expect(read32be(m, off + 2)).toBe(lba);
      expect(read16be(m, off + 6)).toBe(read16le(l, off + 6));
      names.push(String.fromCharCode(...l.subarray(off + 8, off + 8 + len)));
      const dot = parseDirectory(iso.subarray(lba * S, lba * S + S), 'test')[0];
      expect(dot?.lba).toBe(lba);
      off += 8 + len + (len % 2);
    }
    expect(names).toEqual(['\u0000', 'DIR', 'SUB']);
  });

  it('keeps records of even length inside sectors and moves overflowing Rock Ridge entries to CE areas', async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      path: `d/${'x'.repeat(200)}-${i}`,
      content: `${i}`,
    }));
    const iso = await writeIso9660([...entries, ...many], { volumeId: 'x' });
    const image = await readIso9660(iso);
    const dir = image.files.find((f) => f.path === 'd');
    const extent = dir?.extents[0] as { lba: number; size: number };
    expect(extent.size).toBeGreaterThan(S);
    for (let sector = 0; sector < extent.size / S; sector++) {
      let off = 0;
      const buf = iso.subarray(extent.lba * S + sector * S, extent.lba * S + (sector + 1) * S);
      while (off < S && buf[off] !== 0) {
        expect((buf[off] as number) % 2).toBe(0);
        off += buf[off] as number;
      }
      expect(off).toBeLessThanOrEqual(S);
    }
    expect(image.files.filter((f) => f.path.startsWith('d/')).map((f) => f.path)).toHaveLength(60);
    expect(image.files.find((f) => f.path === 'link')?.target).toBe(`/${'t'.repeat(600)}`);
    expect(new TextDecoder().decode(await image.readFile('d/' + 'x'.repeat(200) + '-59'))).toBe('59');
  });

  it('refuses files of 4 GiB and more, and bad options, naming them', async () => {
    const huge = fromStream(2 ** 32, async function* () {});
    await expect(writeIso9660([{ path: 'big', content: huge }], { volumeId: 'x' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'entries[0].content' },
    });
    for (const [options, field] of [
      [{ volumeId: '' }, 'options.volumeId'],
      [{ volumeId: 'x'.repeat(33) }, 'options.volumeId'],
      [{ volumeId: 'é' }, 'options.volumeId'],
      [{ volumeId: 'x', joliet: 'yes' }, 'options.joliet'],
      [{ volumeId: 'x', isoLevel: 3 }, 'options.isoLevel'],
      [{ volumeId: 'x', padding: 100 }, 'options.padding'],
      [{ volumeId: 'x', timestamp: new Date('1850-01-01') }, 'options.timestamp'],
    ] as const) {
      expect(() => planIso9660(entries, options as never)).toThrow(
        expect.objectContaining({ details: { field } }),
      );
    }
  });

  it('plans a 4 GiB - 1 file without reading it', () => {
    const plan = planIso9660([{ path: 'big', content: fromStream(2 ** 32 - 1, async function* () {}) }], {
      volumeId: 'x',
    });
    expect(plan.size).toBeGreaterThan(2 ** 32);
  });

  it('honours AbortSignal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(writeIso9660(entries, { volumeId: 'x', signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });

  describe('writeIso9660ToFile', () => {
    let dir = '';
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('streams sources to a file identical to the in-memory image', async () => {
      dir = await mkdtemp(join(tmpdir(), 'vmkit-iso-'));
      const chunk = new Uint8Array(100_000).fill(3);
      const streamed = fromStream(300_000, async function* () {
        for (let i = 0; i < 3; i++) yield chunk;
      });
      const target = join(dir, 'out.iso');
      const result = await writeIso9660ToFile(
        [...entries, { path: 'stream.bin', content: streamed }],
        target,
        { volumeId: 'x' },
      );
      const memory = await writeIso9660(
        [...entries, { path: 'stream.bin', content: new Uint8Array(300_000).fill(3) }],
        { volumeId: 'x' },
      );
      const onDisk = await readFile(target);
      expect(result.size).toBe(memory.length);
      expect(onDisk.equals(Buffer.from(memory))).toBe(true);
    });

    it('stops with ABORTED mid-write and leaves no file behind', async () => {
      dir ||= await mkdtemp(join(tmpdir(), 'vmkit-iso-'));
      const controller = new AbortController();
      const slow = fromStream(3 * 1024 * 1024, async function* () {
        yield new Uint8Array(1024 * 1024);
        controller.abort();
        yield new Uint8Array(1024 * 1024);
        yield new Uint8Array(1024 * 1024);
      });
      const target = join(dir, 'aborted.iso');
      await expect(
        writeIso9660ToFile([{ path: 'slow', content: slow }], target, {
          volumeId: 'x',
          signal: controller.signal,
        }),
      ).rejects.toMatchObject({ code: 'ABORTED' });
      expect((await readdir(dir)).filter((n) => n.includes('aborted'))).toEqual([]);
    });

    it('fails with CORRUPT when a source lies about its size, and leaves no file behind', async () => {
      dir ||= await mkdtemp(join(tmpdir(), 'vmkit-iso-'));
      const liar = fromStream(10, async function* () {
        yield new Uint8Array(5);
      });
      const target = join(dir, 'bad.iso');
      await expect(
        writeIso9660ToFile([{ path: 'f', content: liar }], target, { volumeId: 'x' }),
      ).rejects.toSatisfy((e: unknown) => VmkitError.is(e, 'CORRUPT'));
      expect((await readdir(dir)).filter((n) => n.includes('bad'))).toEqual([]);
    });
  });
});
