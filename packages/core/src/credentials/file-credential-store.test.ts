import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { fileCredentialStore } from './file-credential-store.js';

let dir: string;
let previousUmask: number;
beforeEach(async () => {
  // Everything through: only the store's own modes protect its files.
  previousUmask = process.umask(0o000);
  dir = await mkdtemp(join(tmpdir(), 'vmkit-creds-'));
});
afterEach(async () => {
  process.umask(previousUmask);
  await rm(dir, { recursive: true, force: true });
});

const modeOf = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

async function everything(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries.map((e) => join(e.parentPath, e.name)).sort();
}

describe('fileCredentialStore', () => {
  it('keeps one 0600 file per key in 0700 folders, and reads, replaces and deletes values', async () => {
    const root = join(dir, 'a', 'creds');
    const store = fileCredentialStore({ directory: root });
    expect(await store.get('groups/p-1/web/id_ed25519')).toBeUndefined();
    await store.put('groups/p-1/web/id_ed25519', 'secret-1');
    await store.put('top', 'secret-2');
    expect(await store.get('groups/p-1/web/id_ed25519')).toBe('secret-1');
    expect(await store.get('top')).toBe('secret-2');
    for (const folder of [
      root,
      join(root, 'groups'),
      join(root, 'groups', 'p-1'),
      join(root, 'groups', 'p-1', 'web'),
    ])
      expect(await modeOf(folder)).toBe('700');
    expect(await modeOf(join(root, 'groups', 'p-1', 'web', 'id_ed25519'))).toBe('600');
    expect(await modeOf(join(root, 'top'))).toBe('600');
    await store.put('top', 'secret-3');
    expect(await readFile(join(root, 'top'), 'utf8')).toBe('secret-3');
    expect(await modeOf(join(root, 'top'))).toBe('600');
    await store.delete('top');
    await store.delete('top');
    expect(await store.get('top')).toBeUndefined();
    // No temporary file is left behind.
    expect((await everything(root)).filter((p) => p.includes('.tmp-'))).toEqual([]);
  });

  it('makes no folder for reads and deletes of a store never written to', async () => {
    const root = join(dir, 'never');
    const store = fileCredentialStore({ directory: root });
    expect(await store.get('x/y')).toBeUndefined();
    await store.delete('x/y');
    await expect(stat(root)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each([
    '../escape',
    'a/../../escape',
    '/etc/passwd',
    'a//b',
    '.hidden',
    'a/.tmp-x',
    'a/./b',
    'a/b/',
    '',
    'a\\b',
    'a b',
    'x'.repeat(256),
  ])('refuses the key %j, naming the field, and writes nothing anywhere', async (key) => {
    const root = join(dir, 'store');
    const store = fileCredentialStore({ directory: root });
    for (const call of [() => store.put(key, 'v'), () => store.get(key), () => store.delete(key)]) {
      const error = await call().catch((e: unknown) => e);
      expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as VmkitError).details.field).toBe('key');
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a store folder others may read, and one that is a symbolic link', async () => {
    const open = join(dir, 'open');
    await mkdir(open, { mode: 0o755 });
    await chmod(open, 0o755);
    const error = await fileCredentialStore({ directory: open })
      .put('k', 'secret')
      .catch((e: unknown) => e);
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(String((error as Error).message)).toMatch(/credentials\.directory/);
    // Reading refuses too: a key planted there is not taken for vmkit's own.
    await writeFile(join(open, 'k'), 'planted');
    await expect(fileCredentialStore({ directory: open }).get('k')).rejects.toSatisfy((e) =>
      VmkitError.is(e, 'INVALID_ARGUMENT'),
    );
    expect(await readdir(open)).toEqual(['k']);
  });

  it('writes atomically: concurrent readers only ever see a whole value', async () => {
    const store = fileCredentialStore({ directory: join(dir, 'atomic') });
    const values = Array.from({ length: 8 }, (_, i) => `${i}:${randomBytes(256 * 1024).toString('base64')}`);
    await store.put('k', values[0] as string);
    let writing = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (writing) seen.add((await store.get('k')) as string);
    })();
    for (let round = 0; round < 3; round++) await Promise.all(values.map((v) => store.put('k', v)));
    writing = false;
    await reader;
    expect(seen.size).toBeGreaterThan(0);
    for (const value of seen) expect(values).toContain(value);
    expect((await everything(join(dir, 'atomic'))).filter((p) => p.includes('.tmp-'))).toEqual([]);
  });

  it('putIfAbsent: of concurrent writers exactly one value is kept, and every writer gets it back', async () => {
    const store = fileCredentialStore({ directory: join(dir, 'once') });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.putIfAbsent('g/k', `value-${i}`)),
    );
    expect(new Set(results).size).toBe(1);
    expect(await store.get('g/k')).toBe(results[0]);
    expect(await store.putIfAbsent('g/k', 'later')).toBe(results[0]);
    expect((await everything(join(dir, 'once'))).filter((p) => p.includes('.tmp-'))).toEqual([]);
  });

  it('names neither the value nor its type in errors', async () => {
    const store = fileCredentialStore({ directory: join(dir, 'v') });
    const error = await store.put('k', 42 as unknown as string).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).not.toMatch(/42/);
  });
});
