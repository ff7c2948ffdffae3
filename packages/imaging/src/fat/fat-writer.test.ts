import { VmkitError } from '@vmkit/core/spi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MediaEntry } from '../media-entry.js';
import { read16le, read32le } from '../util/bytes.js';
import { chooseGeometry, computeGeometry } from './fat-geometry.js';
import { shortNameChecksum } from './fat-names.js';
import { planFat, writeFat } from './fat-writer.js';
import { readFat } from './read/fat-reader.js';

const MiB = 1024 * 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: names FAT refuses, tested separately
const FAT_REFUSED = /[\u0000-\u001f\u007f"*/:<>?\\|\ud800-\udfff]|[. ]$/;
const entries: MediaEntry[] = [
  { path: 'user-data', content: '#cloud-config\n' },
  { path: 'meta-data', content: 'instance-id: i-1\n' },
  { path: 'README.TXT', content: 'short name only' },
  { path: 'dir/sub/file.bin', content: new Uint8Array(9000).fill(9) },
  { path: `dir/${'long name '.repeat(20)}.txt`, content: 'long' },
  { path: 'ünïcødé 名前.txt', content: 'unicode' },
  { path: 'empty' },
];

describe('FAT geometry', () => {
  it('chooses the type by size and keeps the cluster count inside its range', () => {
    expect(chooseGeometry(1 * MiB, undefined, 512).fatType).toBe(12);
    expect(chooseGeometry(64 * MiB, undefined, 512).fatType).toBe(16);
    expect(chooseGeometry(600 * MiB, undefined, 512).fatType).toBe(32);
    for (const [size, type, min, max] of [
      [1 * MiB, 12, 1, 4084],
      [15 * MiB, 12, 1, 4084],
      [3 * MiB, 16, 4085, 65524],
      [511 * MiB, 16, 4085, 65524],
      [40 * MiB, 32, 65525, 0x0ffffff5],
      [2048 * MiB, 32, 65525, 0x0ffffff5],
    ] as const) {
      const g = chooseGeometry(size, type, 512);
      expect(g.fatType).toBe(type);
      expect(g.clusterCount).toBeGreaterThanOrEqual(min);
      expect(g.clusterCount).toBeLessThanOrEqual(max);
      // The FAT covers every cluster, and the data region fits in the volume.
      expect(g.fatSectors * 512 * 8).toBeGreaterThanOrEqual((g.clusterCount + 2) * type);
      expect(g.firstDataSector + g.clusterCount * g.sectorsPerCluster).toBeLessThanOrEqual(g.totalSectors);
    }
  });

  it('refuses a type the size cannot hold, naming fatType', () => {
    expect(() => chooseGeometry(8 * MiB, 32, 512)).toThrow(/options.fatType: FAT32 needs between 65525/);
    expect(computeGeometry(4096, 16, 1, 512)).toBeUndefined();
  });
});

describe('writeFat', () => {
  it('computes long-name checksums as the FAT specification defines', () => {
    // Rotate-right-and-add over the 11 bytes of "README  TXT".
    let sum = 0;
    for (const b of Buffer.from('README  TXT')) sum = (((sum & 1) << 7) + (sum >> 1) + b) & 0xff;
    expect(shortNameChecksum(Buffer.from('README  TXT'))).toBe(sum);
    expect(shortNameChecksum(Buffer.from('USER-D~1   '))).not.toBe(
      shortNameChecksum(Buffer.from('USER-D~2   ')),
    );
  });

  it.each([12, 16, 32] as const)(
    'writes FAT%i volumes that read back with names, label and bytes',
    async (fatType) => {
      const image = await writeFat(entries, { label: 'cidata', fatType });
      const volume = await readFat(image);
      expect(volume.fatType).toBe(fatType);
      expect(volume.label).toBe('cidata');
      expect(volume.bootLabel).toBe('cidata');
      for (const entry of entries) {
        const content =
          typeof entry.content === 'string'
            ? Buffer.from(entry.content)
            : Buffer.from((entry.content as Uint8Array | undefined) ?? new Uint8Array(0));
        expect(Buffer.from(await volume.readFile(entry.path)).equals(content), entry.path).toBe(true);
      }
      expect(volume.files.find((f) => f.path === 'README.TXT')?.shortName).toBe('README.TXT');
      expect(volume.files.find((f) => f.path === 'user-data')?.shortName).toBe('USER-D~1');
      expect(volume.files.find((f) => f.path === 'dir')?.shortName).toBe('DIR');
    },
  );

  it('records the boot sector, the FAT32 FSInfo and its backup', async () => {
    const image = await writeFat(entries, { label: 'config-2', fatType: 32, volumeSerial: 0x12345678 });
    expect([image[510], image[511]]).toEqual([0x55, 0xaa]);
    expect(read16le(image, 11)).toBe(512);
    expect(read16le(image, 22)).toBe(0);
    expect(read32le(image, 44)).toBe(2);
    expect(read32le(image, 67)).toBe(0x12345678);
    expect(Buffer.from(image.subarray(71, 82)).toString('latin1')).toBe('config-2   ');
    expect(Buffer.from(image.subarray(82, 90)).toString('latin1')).toBe('FAT32   ');
    const info = image.subarray(512, 1024);
    expect([read32le(info, 0), read32le(info, 484), read32le(info, 508)]).toEqual([
      0x41615252, 0x61417272, 0xaa550000,
    ]);
    const plan = planFat(entries, { label: 'config-2', fatType: 32 });
    const clusters = Math.floor((plan.size / 512 - 32 - 2 * read32le(image, 36)) / image[13]!);
    // root, sub: 1 cluster each; dir: 2 (., .., 16 long-name entries + short, sub); five small files: 1
    // each; file.bin: 18; empty: none.
    expect(plan.clusterBytes).toBe(512);
    const used = 1 + 1 + 2 + 5 + Math.ceil(9000 / plan.clusterBytes);
    expect(read32le(info, 488)).toBe(clusters - used);
    expect(read32le(info, 492)).toBe(2 + used);
    expect(Buffer.from(image.subarray(6 * 512, 7 * 512)).equals(Buffer.from(image.subarray(0, 512)))).toBe(
      true,
    );
    expect(Buffer.from(image.subarray(7 * 512, 8 * 512)).equals(Buffer.from(info))).toBe(true);
  });

  it('is deterministic and grows the default size with the content', async () => {
    const a = await writeFat(entries, { label: 'x' });
    const b = await writeFat([...entries].reverse(), { label: 'x' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.length).toBe(MiB);
    const big = planFat([{ path: 'big', content: new Uint8Array(3 * MiB) }], { label: 'x' });
    expect(big.size).toBeGreaterThanOrEqual(3 * MiB);
    expect(big.size % MiB).toBe(0);
  });

  it('refuses what FAT cannot hold, naming the entry or option', async () => {
    const cases: Array<[MediaEntry[], object, string, RegExp]> = [
      [[{ path: 'l', target: 'x' }], {}, 'entries[0].path', /symbolic links/],
      [
        [{ path: 'a.txt' }, { path: 'A.TXT' }],
        {},
        'entries[0].path',
        /'a.txt' and 'A.TXT' are the same name/,
      ],
      [[{ path: 'a:b' }], {}, 'entries[0].path', /may not contain/],
      [[{ path: 'trailing.' }], {}, 'entries[0].path', /end with a dot/],
      [
        [{ path: 'f', content: new Uint8Array(200_000) }],
        { sizeBytes: 128 * 1024 },
        'options.sizeBytes',
        /too small/,
      ],
      [[], { label: '' }, 'options.label', /1 to 11/],
      [[], { label: 'a.b' }, 'options.label', /printable ASCII/],
      [[], { sizeBytes: 1000 }, 'options.sizeBytes', /multiple of 512/],
      [[], { fatType: 8 }, 'options.fatType', /12, 16 or 32/],
      [[{ path: 'old', mtime: new Date('1970-01-01') }], {}, 'entries[0].mtime', /1980/],
    ];
    for (const [input, options, field, rule] of cases) {
      const error = await writeFat(input, { label: 'x', ...options }).catch((e: unknown) => e);
      expect(VmkitError.is(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
      expect((error as VmkitError).details.field).toBe(field);
      expect((error as Error).message).toMatch(rule);
    }
  });

  it('round-trips random trees (property)', async () => {
    const name = fc
      .string({ unit: 'binary', minLength: 1, maxLength: 30 })
      .filter(
        (n) =>
          !FAT_REFUSED.test(n.replace(/[\ud800-\udbff][\udc00-\udfff]/g, 'x')) && n !== '.' && n !== '..',
      );
    const tree = fc.uniqueArray(
      fc.record({
        dir: fc.constantFrom('', 'a', 'a/b', 'Dir With Space'),
        name,
        content: fc.uint8Array({ maxLength: 5000 }),
      }),
      { maxLength: 30, selector: (e) => `${e.dir}/${e.name}`.toUpperCase() },
    );
    await fc.assert(
      fc.asyncProperty(tree, fc.constantFrom(undefined, 12, 16, 32), async (raw, fatType) => {
        const dirs = new Set(['a', 'a/b', 'Dir With Space'].map((d) => d.toUpperCase()));
        const files = raw.filter((e) => !dirs.has((e.dir ? `${e.dir}/${e.name}` : e.name).toUpperCase()));
        const input = files.map((e) => ({ path: e.dir ? `${e.dir}/${e.name}` : e.name, content: e.content }));
        const volume = await readFat(
          await writeFat(input, { label: 'PROP', ...(fatType ? { fatType } : {}) }),
        );
        for (const entry of input) {
          expect(
            Buffer.from(await volume.readFile(entry.path)).equals(Buffer.from(entry.content)),
            entry.path,
          ).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  });
});
