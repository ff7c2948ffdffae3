import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { providerBootIsoCache, readIso9660, writeIso9660ToFile } from '@vmkit/imaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withKernelParams } from './boot-iso-source.js';

let dir: string;
let iso: string;
const bootIsos = providerBootIsoCache(undefined);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-libvirt-kparams-'));
  iso = join(dir, 'installer.iso');
  await writeIso9660ToFile(
    [
      { path: 'isolinux/isolinux.bin', content: new Uint8Array(4096) },
      { path: 'isolinux/isolinux.cfg', content: 'label i\n  kernel /linux\n  append vga=788 --- quiet\n' },
    ],
    iso,
    {
      volumeId: 'INST',
      boot: { images: [{ platform: 'bios', image: 'isolinux/isolinux.bin', bootInfoTable: true }] },
    },
  );
});
afterAll(async () => {
  await bootIsos.close();
  await rm(dir, { recursive: true, force: true });
});

describe('withKernelParams (ISO master sources)', () => {
  it('uploads the ISO itself when no parameters are given', async () => {
    const same = await withKernelParams(bootIsos, iso, undefined);
    expect(same.file).toBe(iso);
    await same.cleanup();
    expect(existsSync(iso)).toBe(true);
  });

  it('remasters the ISO with the parameters into a temporary copy that cleanup removes', async () => {
    const patched = await withKernelParams(bootIsos, iso, 'auto=true priority=critical');
    expect(patched.file).not.toBe(iso);
    const cfg = new TextDecoder().decode(
      await (await readIso9660(patched.file)).readFile('isolinux/isolinux.cfg'),
    );
    expect(cfg).toContain('append vga=788 auto=true priority=critical --- quiet');
    await patched.cleanup();
    expect(existsSync(dirname(patched.file))).toBe(false);
  });

  it('fails with the remaster error for an ISO it cannot patch', async () => {
    const junk = join(dir, 'junk.iso');
    await writeFile(junk, new Uint8Array(100_000));
    await expect(withKernelParams(bootIsos, junk, 'a=1')).rejects.toMatchObject({ code: 'CORRUPT' });
    await expect(withKernelParams(bootIsos, iso, 'a\nb')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
