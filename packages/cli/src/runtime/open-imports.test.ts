import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  provider: { uri: 'qemu:///system' },
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
    const s3: Settings = { provider: { uri: 'qemu:///system' }, store: { s3: { bucket: 'b' } }, images: [] };
    expect(importPlaces(s3).home).toBe(join(tmpdir(), 'vmkit-import'));
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
});
