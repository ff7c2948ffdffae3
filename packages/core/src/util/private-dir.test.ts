import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { ensurePrivateDir } from './private-dir.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-private-dir-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const refused = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('ensurePrivateDir', () => {
  it('creates the folders below base with mode 0700', async () => {
    const target = join(dir, 'vmkit', 'import', 'scratch');
    expect(await ensurePrivateDir(target, { field: 'scratchDir', base: dir })).toBe(target);
    for (const f of ['vmkit', 'vmkit/import', 'vmkit/import/scratch'])
      expect((await lstat(join(dir, f))).mode & 0o777).toBe(0o700);
    // Again: the folders are there and fine.
    await ensurePrivateDir(target, { field: 'scratchDir', base: dir });
  });

  it('refuses a folder someone else made with mode 0777, naming the field and the rule', async () => {
    await mkdir(join(dir, 'vmkit'));
    await chmod(join(dir, 'vmkit'), 0o777);
    const error = await refused(
      ensurePrivateDir(join(dir, 'vmkit', 'x'), { field: 'scratchDir', base: dir }),
    );
    expect(VmkitError.is(error) && error.code).toBe('INVALID_ARGUMENT');
    expect((error as Error).message).toMatch(/^scratchDir: the working folder .*\/vmkit has mode 0777/);
    expect((error as Error).message).toMatch(/remove it/);
  });

  it('refuses a symbolic link, even to a private folder', async () => {
    await mkdir(join(dir, 'elsewhere'), { mode: 0o700 });
    await symlink(join(dir, 'elsewhere'), join(dir, 'vmkit'));
    expect(String(await refused(ensurePrivateDir(join(dir, 'vmkit'), { field: 'f' })))).toMatch(
      /vmkit is a symbolic link/,
    );
  });

  it('creates nothing through a link below base', async () => {
    await mkdir(join(dir, 'elsewhere'), { mode: 0o700 });
    await symlink(join(dir, 'elsewhere'), join(dir, 'vmkit'));
    const target = join(dir, 'vmkit', 'import', 'scratch');
    expect(String(await refused(ensurePrivateDir(target, { field: 'f', base: dir })))).toMatch(
      /vmkit is a symbolic link/,
    );
    expect(await readdir(join(dir, 'elsewhere'))).toEqual([]);
  });

  it('refuses a folder owned by another user', async () => {
    await mkdir(join(dir, 'vmkit'), { mode: 0o700 });
    await chown(join(dir, 'vmkit'), 65534, 65534);
    expect(String(await refused(ensurePrivateDir(join(dir, 'vmkit'), { field: 'f' })))).toMatch(
      /is owned by uid 65534, not by you/,
    );
  });

  it('refuses a file in place of the folder, and a target outside base', async () => {
    await writeFile(join(dir, 'vmkit'), '');
    expect(
      String(await refused(ensurePrivateDir(join(dir, 'vmkit', 'x'), { field: 'f', base: dir }))),
    ).toMatch(/EEXIST|ENOTDIR|not a folder/);
    expect(String(await refused(ensurePrivateDir('/etc', { field: 'f', base: dir })))).toMatch(
      /does not lie below/,
    );
  });
});
