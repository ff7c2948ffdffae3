import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readIso9660 } from '@vmkit/imaging';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../test-support/run-cli.js';

let dir: string;
let userData: string;
let umask: number;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-seed-private-'));
  userData = join(dir, 'user-data');
  await writeFile(userData, '#cloud-config\npassword: hunter2\nchpasswd: { expire: false }\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
});

describe('vmkit seed writes user data readable by its owner only', () => {
  it('creates the image 0600 under umask 022, and replaces an older 0644 one with a 0600 one', async () => {
    const seed = join(dir, 'seed.iso');
    const run = await runCli(['seed', seed, userData], dir);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect((await stat(seed)).mode & 0o777).toBe(0o600);
    await rm(seed);
    await writeFile(seed, 'old', { mode: 0o644 });
    expect((await runCli(['seed', seed, userData, '-f', 'vfat'], dir)).code).toBe(0);
    expect((await stat(seed)).mode & 0o777).toBe(0o600);
  });

  it('does not follow a link planted at the temporary name the old code used, and leaves no temporary file', async () => {
    const seed = join(dir, 'planted.iso');
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious', { mode: 0o644 });
    const trap = `${seed}.${process.pid}.tmp`;
    await symlink(victim, trap);
    const run = await runCli(['seed', seed, userData], dir);
    expect(run.code).toBe(0);
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await lstat(trap)).isSymbolicLink()).toBe(true);
    expect(await readlink(trap)).toBe(victim);
    expect((await lstat(seed)).isFile()).toBe(true);
    expect((await readIso9660(seed)).files.map((f) => f.path)).toContain('user-data');
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp') && join(dir, name) !== trap)).toEqual(
      [],
    );
  });
});
