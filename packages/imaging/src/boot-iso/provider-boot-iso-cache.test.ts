import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeIso9660ToFile } from '../iso9660/iso-writer.js';
import { readIso9660 } from '../iso9660/read/iso-reader.js';
import { type BootIsoCache, bootIsoCache } from './boot-iso-cache.js';
import { countingBootIsoCache } from './counting-boot-iso-cache.fixture.js';
import { providerBootIsoCache } from './provider-boot-iso-cache.js';

let root: string;
let source: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmkit-provider-bootiso-'));
  source = join(root, 'source.iso');
  await writeIso9660ToFile(
    [
      { path: 'isolinux/isolinux.bin', content: new Uint8Array(4096).fill(1) },
      { path: 'isolinux/isolinux.cfg', content: 'label a\n  kernel /vmlinuz\n  append ro\n' },
    ],
    source,
    {
      volumeId: 'PROV',
      boot: { images: [{ platform: 'bios', image: 'isolinux/isolinux.bin', bootInfoTable: true }] },
    },
  );
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('providerBootIsoCache', () => {
  it("remasters once for two outputs of the same ISO and parameters; a caller's cache outlives close", async () => {
    const dir = join(root, 'given');
    const given = countingBootIsoCache(bootIsoCache({ dir, maxBytes: 1 << 30 }));
    const p = providerBootIsoCache(given);
    await p.remasterTo(source, 'x=1', join(root, 'one.iso'));
    await p.remasterTo(source, 'x=1', join(root, 'two.iso'));
    expect(given.remastered).toBe(1);
    const [one, two] = [await stat(join(root, 'one.iso')), await stat(join(root, 'two.iso'))];
    expect(one.ino).toBe(two.ino); // hard links of the one cached copy
    const cfg = await (await readIso9660(join(root, 'two.iso'))).readFile('isolinux/isolinux.cfg');
    expect(new TextDecoder().decode(cfg)).toContain('append ro x=1');
    await p.remasterTo(source, 'x=2', join(root, 'three.iso'));
    expect(given.remastered).toBe(2);
    expect(p.ownFolder).toBeUndefined();
    await p.close();
    expect((await readdir(dir)).filter((f) => f.endsWith('.iso'))).toHaveLength(2);
  });

  it('makes a cache of its own when none is given, in a folder close removes', async () => {
    const p = providerBootIsoCache(undefined);
    await p.remasterTo(source, 'y=1', join(root, 'own.iso'));
    const folders = async () => (await readdir(tmpdir())).filter((f) => f.startsWith('vmkit-boot-isos-'));
    const before = await folders();
    expect(before.length).toBeGreaterThan(0);
    await p.close();
    expect((await folders()).length).toBe(before.length - 1);
    expect(existsSync(join(root, 'own.iso'))).toBe(true);
  });

  it('leaves nothing at the output when remastering fails, and names a bad option', async () => {
    const p = providerBootIsoCache(undefined);
    try {
      await expect(p.remasterTo(source, 'a\nb', join(root, 'bad.iso'))).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      expect(existsSync(join(root, 'bad.iso'))).toBe(false);
    } finally {
      await p.close();
    }
    expect(() => providerBootIsoCache({} as BootIsoCache, 'options.bootIsoCache')).toThrow(
      /options\.bootIsoCache/,
    );
  });
});
