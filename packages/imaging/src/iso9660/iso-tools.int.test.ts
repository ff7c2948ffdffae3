import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readTree,
  run,
  tempDir,
  xorrisoComplaints,
  xorrisoExtract,
  xorrisoPaths,
} from '../../test-fixtures/tools.js';
import { fromFile, type MediaEntry } from '../media-entry.js';
import { writeIso9660, writeIso9660ToFile } from './iso-writer.js';
import { readIso9660 } from './read/iso-reader.js';

const deep = 'l1/l2/l3/l4/l5/l6/l7/l8/l9/l10';
const longName = `${'a-long-name-'.repeat(15)}end.txt`;
const big = Buffer.alloc(3 * 1024 * 1024 + 123).map((_, i) => (i * 7) & 0xff);

const entries: MediaEntry[] = [
  { path: 'user-data', content: '#cloud-config\nhostname: test\n' },
  { path: 'meta-data', content: 'instance-id: iid-1\n' },
  { path: 'README.TXT', content: 'plain name' },
  { path: `${deep}/deep.txt`, content: 'deep file' },
  { path: `dir/${longName}`, content: 'long' },
  { path: 'dir/ünïcødé 名前 😀.txt', content: 'unicode' },
  { path: 'bin/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  { path: 'private', type: 'directory', mode: 0o700 },
  { path: 'empty' },
  { path: 'big.bin', content: big },
  { path: 'link-rel', target: '../etc/passwd' },
  { path: 'dir/link-abs', target: `/usr/share/${'x'.repeat(300)}` },
];
const expected = new Map<string, { type: string; content?: Buffer; mode?: number; target?: string }>();
for (const e of entries) {
  const parts = e.path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const p = parts.slice(0, i).join('/');
    if (!expected.has(p)) expected.set(p, { type: 'directory' });
  }
  if (e.target) expected.set(e.path, { type: 'symlink', target: e.target });
  else if (e.type === 'directory') expected.set(e.path, { type: 'directory', mode: e.mode ?? 0o755 });
  else {
    const content =
      typeof e.content === 'string'
        ? Buffer.from(e.content)
        : Buffer.from((e.content as Uint8Array | undefined) ?? []);
    expected.set(e.path, { type: 'file', content, mode: e.mode ?? 0o644 });
  }
}

describe('our ISO 9660 images, read by xorriso and isoinfo', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let iso = '';
  let ours: Uint8Array;
  beforeAll(async () => {
    tmp = await tempDir('iso-int');
    iso = join(tmp.path, 'ours.iso');
    ours = await writeIso9660(entries, { volumeId: 'cidata', publisher: 'vmkit integration' });
    await writeFile(iso, ours);
  });
  afterAll(async () => tmp?.remove());

  it('isoinfo sees the label, the publisher, Joliet level 3 and Rock Ridge', async () => {
    const { stdout } = await run('isoinfo', ['-d', '-i', iso]);
    expect(stdout).toMatch(/^Volume id: cidata$/m);
    expect(stdout).toMatch(/^Publisher id: vmkit integration$/m);
    expect(stdout).toMatch(/Joliet with UCS level 3 found/);
    expect(stdout).toMatch(/Rock Ridge signatures version 1 found/);
    expect(stdout).toMatch(new RegExp(`Volume size is: ${ours.length / 2048}`));
  });

  it('xorriso lists the Rock Ridge names without complaint and extracts identical files, modes and links', async () => {
    const { paths, stderr } = await xorrisoPaths(iso, 'rockridge');
    expect(xorrisoComplaints(stderr)).toEqual([]);
    expect(paths).toEqual([...expected.keys()].sort());
    const out = join(tmp.path, 'rr');
    expect(xorrisoComplaints(await xorrisoExtract(iso, out))).toEqual([]);
    const tree = await readTree(out);
    expect([...tree.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, want] of expected) {
      const got = tree.get(path);
      expect(got?.type, path).toBe(want.type);
      if (want.content) expect(got?.content?.equals(want.content), path).toBe(true);
      if (want.target) expect(got?.target).toBe(want.target);
      if (want.mode !== undefined) expect(got?.mode.toString(8), path).toBe(want.mode.toString(8));
    }
  });

  it('xorriso reads the Joliet tree with Unicode names up to 64 characters', async () => {
    const { paths, stderr } = await xorrisoPaths(iso, 'joliet');
    expect(xorrisoComplaints(stderr)).toEqual([]);
    // Joliet is UCS-2: the emoji (outside the BMP) becomes `_`.
    expect(paths).toContain('dir/ünïcødé 名前 _.txt');
    expect(paths).toContain('user-data');
    expect(paths).toContain(`${deep}/deep.txt`);
    const cut = paths.find((p) => p.startsWith('dir/a-long-name-'));
    expect(cut && [...cut.slice(4)].length).toBeLessThanOrEqual(64);
    expect(cut?.endsWith('.txt')).toBe(true);
    const out = join(tmp.path, 'joliet');
    await xorrisoExtract(iso, out, 'joliet');
    const tree = await readTree(out);
    expect(tree.get('big.bin')?.content?.equals(big)).toBe(true);
    expect(tree.get('dir/ünïcødé 名前 _.txt')?.content?.toString()).toBe('unicode');
    const ourJoliet = await readIso9660(ours, { namespace: 'joliet' });
    expect(ourJoliet.files.map((f) => f.path).sort()).toEqual(paths);
  });

  it('xorriso and isoinfo read the plain ECMA-119 names our reader reports', async () => {
    const { paths } = await xorrisoPaths(iso, 'plain');
    const plain = await readIso9660(ours, { namespace: 'plain' });
    expect(plain.files.map((f) => f.path).sort()).toEqual(paths);
    expect(paths).toContain('USER_DAT');
    expect(paths).toContain('README.TXT');
    const { stdout } = await run('isoinfo', ['-f', '-i', iso]);
    expect(stdout.split('\n')).toContain('/USER_DAT.;1');
    const extracted = await run('isoinfo', ['-i', iso, '-x', '/BIG.BIN;1'], { encoding: 'latin1' });
    expect(Buffer.from(extracted.stdout, 'latin1').equals(big)).toBe(true);
  });

  it('writeIso9660ToFile streams file sources into an image xorriso reads', async () => {
    const src = join(tmp.path, 'big-source.bin');
    await writeFile(src, big);
    const target = join(tmp.path, 'streamed.iso');
    await writeIso9660ToFile([{ path: 'from-disk.bin', content: await fromFile(src) }], target, {
      volumeId: 'STREAM',
    });
    const out = join(tmp.path, 'streamed');
    expect(xorrisoComplaints(await xorrisoExtract(target, out))).toEqual([]);
    expect((await readTree(out)).get('from-disk.bin')?.content?.equals(big)).toBe(true);
  });
});

describe('ISO images made by genisoimage and xorriso, read by our reader', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let source = '';
  let tree: Map<string, Awaited<ReturnType<typeof readTree>> extends Map<string, infer V> ? V : never>;
  beforeAll(async () => {
    tmp = await tempDir('iso-foreign');
    source = join(tmp.path, 'src');
    await mkdir(join(source, deep), { recursive: true });
    await writeFile(join(source, deep, 'deep.txt'), 'deep');
    await mkdir(join(source, 'dir'));
    await writeFile(join(source, 'dir', longName), 'long');
    await writeFile(join(source, 'dir', 'ünïcødé 名前.txt'), 'unicode');
    await writeFile(join(source, 'user-data'), '#cloud-config\n');
    await writeFile(join(source, 'big.bin'), big);
    await writeFile(join(source, 'boot.img'), Buffer.alloc(4096, 0x90));
    await writeFile(join(source, 'run.sh'), 'echo\n');
    await chmod(join(source, 'run.sh'), 0o755);
    await symlink('../user-data', join(source, 'dir', 'link'));
    tree = await readTree(source);
  });
  afterAll(async () => tmp?.remove());

  async function compare(isoPath: string, extra: string[]): Promise<void> {
    const image = await readIso9660(isoPath);
    expect(image.namespace).toBe('rockridge');
    const byPath = new Map(image.files.map((f) => [f.path, f]));
    expect([...byPath.keys()].filter((p) => !extra.includes(p)).sort()).toEqual([...tree.keys()].sort());
    for (const [path, want] of tree) {
      const got = byPath.get(path);
      expect(got?.type, path).toBe(want.type);
      if (want.type === 'file') {
        expect(Buffer.from(await image.readFile(path)).equals(want.content as Buffer), path).toBe(true);
        expect(got?.mode, path).toBe(want.mode);
      }
      if (want.type === 'symlink') expect(got?.target).toBe(want.target);
    }
    const boot = byPath.get('boot.img');
    expect(image.bootCatalog?.entries[0]).toMatchObject({
      bootable: true,
      platform: 'x86',
      mediaType: 'no-emulation',
      loadRba: boot?.extents[0]?.lba,
    });
    const joliet = await readIso9660(isoPath, { namespace: 'joliet' });
    const jolietPaths = joliet.files.map((f) => f.path);
    expect(jolietPaths).toContain('dir/ünïcødé 名前.txt');
    expect(Buffer.from(await joliet.readFile('big.bin')).equals(big)).toBe(true);
  }

  it('reads a genisoimage -R -J image with El Torito and relocated deep directories identically', async () => {
    const iso = join(tmp.path, 'gen.iso');
    await run('genisoimage', [
      '-quiet',
      '-R',
      '-J',
      '-joliet-long',
      '-V',
      'GENISO',
      '-b',
      'boot.img',
      '-no-emul-boot',
      '-c',
      'boot.cat',
      '-o',
      iso,
      source,
    ]);
    const image = await readIso9660(iso);
    expect(image.volumeId).toBe('GENISO');
    // genisoimage moves directories deeper than 8 levels to rr_moved and links them back (CL/RE).
    expect(image.files.find((f) => f.path === `${deep}/deep.txt`)?.type).toBe('file');
    await compare(iso, ['boot.cat', 'rr_moved']);
  });

  it('reads an xorriso image with Joliet and El Torito identically', async () => {
    const iso = join(tmp.path, 'xorriso.iso');
    await run('xorriso', [
      '-report_about',
      'SORRY',
      '-outdev',
      iso,
      '-volid',
      'XORR',
      '-joliet',
      'on',
      '-map',
      source,
      '/',
      '-boot_image',
      'any',
      'bin_path=/boot.img',
      '-boot_image',
      'any',
      'emul_type=no_emulation',
      '-boot_image',
      'any',
      'cat_path=/boot.cat',
    ]);
    expect((await readIso9660(iso)).volumeId).toBe('XORR');
    await compare(iso, ['boot.cat']);
  });
});
