import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { userCacheHome } from '@vmkit/core/internal';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Settings } from '../config/settings.js';
import { importPlaces, lockImports } from './open-imports.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fileStore = (store: string): Settings => ({
  provider: { type: 'libvirt', uri: 'qemu:///system' },
  store: { dir: store },
  images: [],
});

describe('import places and lock', () => {
  it('keeps local files under <store>/.import, or the temp dir with S3; --scratch moves scratch only', () => {
    const places = importPlaces(fileStore('/srv/store'), undefined, '/w');
    expect(places).toEqual({
      home: '/srv/store/.import',
      scratchDir: '/srv/store/.import/scratch',
      imageDir: '/srv/store/.import/images',
      logDir: '/srv/store/.import/logs',
      lockFile: '/srv/store/.import/lock',
    });
    expect(importPlaces(fileStore('/srv/store'), 'tmp/s', '/w').scratchDir).toBe('/w/tmp/s');
    const s3: Settings = {
      provider: { type: 'libvirt', uri: 'qemu:///system' },
      store: { s3: { bucket: 'b' } },
      images: [],
    };
    expect(importPlaces(s3).home).toMatch(
      new RegExp(`^${join(userCacheHome(), 'vmkit', 'cli-import', 's3-')}[0-9a-f]{16}$`),
    );
    const other: Settings = { ...s3, store: { s3: { bucket: 'c' } } };
    expect(importPlaces(other).home).not.toBe(importPlaces(s3).home);
  });

  it('lets one process hold the lock, takes over one left by a dead process, and releases it', async () => {
    const places = importPlaces(fileStore(join(dir, 'a')));
    const release = await lockImports(places);
    expect(await readFile(places.lockFile, 'utf8')).toBe(`${process.pid}\n`);
    await release();
    await expect(readFile(places.lockFile)).rejects.toThrow(/ENOENT/);

    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    await mkdir(places.home, { recursive: true });
    await writeFile(places.lockFile, `${dead}\n`);
    const again = await lockImports(places);
    expect(await readFile(places.lockFile, 'utf8')).toBe(`${process.pid}\n`);
    await again();

    const parent = process.ppid;
    await writeFile(places.lockFile, `${parent}\n`);
    await expect(lockImports(places)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(`(pid ${parent}) is running on this store`),
    });
  });

  it('with S3, makes its folder private under the user cache and refuses one someone else opened up', async () => {
    vi.stubEnv('XDG_CACHE_HOME', join(dir, 'cache'));
    try {
      const s3: Settings = {
        provider: { type: 'libvirt', uri: 'qemu:///system' },
        store: { s3: { bucket: 'b' } },
        images: [],
      };
      const places = importPlaces(s3);
      const release = await lockImports(places);
      await release();
      expect((await stat(places.home)).mode & 0o777).toBe(0o700);
      expect((await stat(join(dir, 'cache', 'vmkit'))).mode & 0o777).toBe(0o700);
      // Planted by another user first: a folder anyone may write into.
      await chmod(places.home, 0o777);
      await expect(lockImports(places)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/mode 0777.*group or others/),
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
