import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTree, run, tempDir } from '../../test-fixtures/tools.js';
import type { MediaEntry } from '../media-entry.js';
import type { FatType } from './fat-geometry.js';
import { writeFat, writeFatToFile } from './fat-writer.js';

const big = Buffer.alloc(700_000).map((_, i) => (i * 13) & 0xff);
const entries: MediaEntry[] = [
  { path: 'user-data', content: '#cloud-config\nhostname: fat\n' },
  { path: 'meta-data', content: 'instance-id: iid-fat\n' },
  { path: 'README.TXT', content: 'short' },
  { path: 'openstack/latest/meta_data.json', content: '{"uuid": "x"}' },
  { path: `dir/${'long file name '.repeat(12)}end.txt`, content: 'long' },
  { path: 'dir/ünïcødé 名前.txt', content: 'unicode' },
  { path: 'dir/many', type: 'directory' },
  ...Array.from({ length: 40 }, (_, i) => ({ path: `dir/many/file number ${i}.txt`, content: `file ${i}` })),
  { path: 'big.bin', content: big },
  { path: 'empty' },
];
const expected = new Map<string, Buffer>();
for (const e of entries) {
  if (e.type !== 'directory')
    expected.set(
      e.path,
      typeof e.content === 'string'
        ? Buffer.from(e.content)
        : Buffer.from((e.content as Uint8Array | undefined) ?? []),
    );
}

describe('our FAT images, read by dosfstools, mtools and blkid', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir('fat-int');
  });
  afterAll(async () => tmp?.remove());

  it.each([
    [12, undefined],
    [16, undefined],
    [32, undefined],
    [12, 4 * 1024 * 1024],
    [16, 200 * 1024 * 1024],
  ] as Array<[FatType, number | undefined]>)(
    'FAT%i (%s bytes) passes fsck.fat -n and mtools reads the label and every file',
    async (fatType, sizeBytes) => {
      const image = join(tmp.path, `fat${fatType}-${sizeBytes ?? 'auto'}.img`);
      await writeFile(
        image,
        await writeFat(entries, { label: 'cidata', fatType, ...(sizeBytes ? { sizeBytes } : {}) }),
      );
      const fsck = await run('fsck.fat', ['-n', '-v', image], { allowFailure: true });
      expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
      expect(fsck.stdout).toMatch(
        new RegExp(`${fatType} bit entries|FAT${fatType}|Root directory start at cluster`),
      );
      expect(fsck.stdout + fsck.stderr).not.toMatch(
        /differ|Orphan|Free cluster summary wrong|invalid|bad|Warning/i,
      );
      expect((await run('fatlabel', [image])).stdout.trim()).toBe('cidata');
      const blkid = await run('blkid', ['-p', '-o', 'export', image]);
      expect(blkid.stdout).toMatch(/^LABEL=cidata$/m);
      expect(blkid.stdout).toMatch(/^LABEL_FATBOOT=cidata$/m);
      expect(blkid.stdout).toMatch(new RegExp(`^VERSION=FAT${fatType}$`, 'm'));
      const mdir = await run('mdir', ['-i', image, '::']);
      expect(mdir.stdout).toMatch(/Volume in drive : is cidata/);
      expect(mdir.stdout).toMatch(/USER-D~1\s+\d+.*user-data/);
      const out = join(tmp.path, `x-${fatType}-${sizeBytes ?? 'auto'}`);
      await run('mcopy', ['-s', '-n', '-i', image, '::/', out]);
      const tree = await readTree(out);
      for (const [path, content] of expected) {
        expect(tree.get(path)?.content?.equals(content), path).toBe(true);
      }
      expect([...tree.values()].filter((e) => e.type === 'file')).toHaveLength(expected.size);
    },
  );

  it('writeFatToFile writes a sparse 1 GiB FAT32 volume fsck.fat accepts', async () => {
    const image = join(tmp.path, 'sparse32.img');
    const result = await writeFatToFile(entries, image, { label: 'CONFIG-2', sizeBytes: 1024 * 1024 * 1024 });
    expect(result.size).toBe(1024 * 1024 * 1024);
    const du = await run('du', ['-k', image]);
    expect(Number(du.stdout.split('\t')[0])).toBeLessThan(32 * 1024);
    const fsck = await run('fsck.fat', ['-n', image], { allowFailure: true });
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
    expect((await run('fatlabel', [image])).stdout.trim()).toBe('CONFIG-2');
    const { stdout } = await run('mtype', ['-i', image, '::/openstack/latest/meta_data.json']);
    expect(stdout).toBe('{"uuid": "x"}');
  });
});
