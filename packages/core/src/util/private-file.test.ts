import { lstat, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPrivateFile, openPrivateFile, writeNewPrivateFile } from './private-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-private-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('private files', () => {
  it('openPrivateFile never writes through a file or symlink planted at the path', async () => {
    const victim = join(dir, 'victim');
    await writeFile(victim, 'keep');
    await symlink(victim, join(dir, 'planted'));
    await expect(openPrivateFile(join(dir, 'planted'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(openPrivateFile(victim)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(victim, 'utf8')).toBe('keep');
  });

  it('createPrivateFile makes a new 0600 file under prefix, 16 random hex digits, suffix', async () => {
    const made = await Promise.all(
      [1, 2].map(() => createPrivateFile(dir, { prefix: 'n-config-', suffix: '.iso' })),
    );
    for (const { path, handle } of made) {
      await handle.close();
      expect(basename(path)).toMatch(/^n-config-[0-9a-f]{16}\.iso$/);
      expect((await lstat(path)).mode & 0o777).toBe(0o600);
    }
    expect(made[0]?.path).not.toBe(made[1]?.path);
  });

  it('writeNewPrivateFile writes the data, and leaves nothing when aborted', async () => {
    const path = await writeNewPrivateFile(dir, { suffix: '.txt' }, 'secret user data');
    expect(await readFile(path, 'utf8')).toBe('secret user data');
    expect((await lstat(path)).mode & 0o777).toBe(0o600);
    const stop = new AbortController();
    stop.abort();
    await expect(writeNewPrivateFile(dir, { prefix: 'x-' }, 'data', stop.signal)).rejects.toThrow();
    expect((await readdir(dir)).filter((f) => f.startsWith('x-'))).toEqual([]);
  });
});
