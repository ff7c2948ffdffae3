import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeBlobStoreContract } from '../contract/describe-blob-store-contract.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { fileSystemBlobStore } from './file-system-blob-store.js';

const roots: string[] = [];
const newRoot = async () => {
  const root = await mkdtemp(join(tmpdir(), 'vmkit-fs-store-'));
  roots.push(root);
  return root;
};
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

describeBlobStoreContract(
  'filesystem',
  async () => ({ store: fileSystemBlobStore({ root: await newRoot() }) }),
  { watch: true },
);

describe('fileSystemBlobStore', () => {
  it('keeps working in a container folder an earlier version made 0755, and takes it private', async () => {
    const root = await newRoot();
    await mkdir(join(root, 'old', 'a'), { recursive: true, mode: 0o755 });
    await chmod(join(root, 'old'), 0o755);
    await writeFile(join(root, 'old', 'a', 'legacy'), 'from before', { mode: 0o644 });
    const store = fileSystemBlobStore({ root });
    await store.createContainer('old');
    expect((await stat(join(root, 'old'))).mode & 0o777).toBe(0o700);
    expect(await (await store.getBlob('old', 'a/legacy'))?.text()).toBe('from before');
    await store.putBlob('old', 'a/new', 'now');
    await store.putBlob('old', 'b/c/new', 'now');
    expect((await stat(join(root, 'old', 'a', 'new'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(root, 'old', 'b'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(root, 'old', 'b', 'c'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(root, 'old', 'b', 'c', 'new'))).mode & 0o777).toBe(0o600);
  });

  it('lists entity tags from the trailers, none for a plain file', async () => {
    const root = await newRoot();
    const store = fileSystemBlobStore({ root });
    await store.createContainer('c');
    const { etag } = await store.putBlob('c', 'a', 'content', { metadata: { k: 'v' } });
    await writeFile(join(root, 'c', 'plain'), 'no trailer');
    const items = (await store.list('c')).items;
    expect(items.map((i) => [i.name, i.etag])).toEqual([
      ['a', etag],
      ['plain', undefined],
    ]);
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it('never fails a put whose parent folders a concurrent removal empties and drops', async () => {
    // Without fsync the race between mkdir, rename and rmdir of the emptied folders is tight.
    const store = fileSystemBlobStore({ root: await newRoot(), durable: false });
    await store.createContainer('c');
    const failures: unknown[] = [];
    await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        for (let round = 0; round < 20; round++) {
          await store.putBlob('c', `a/b/f/${i}-${round}`, 'x').catch((e: unknown) => failures.push(e));
          await store.removeBlob('c', `a/b/f/${i}-${round}`);
        }
      }),
    );
    expect(failures).toEqual([]);
    expect((await store.list('c')).items).toEqual([]);
  });

  it('keeps the content readable as a plain file prefix and leaves no temp files', async () => {
    const root = await newRoot();
    const store = fileSystemBlobStore({ root });
    await store.createContainer('c');
    await store.putBlob('c', 'dir/x.json', '{"a":1}', { contentType: 'application/json' });
    const raw = await readFile(join(root, 'c', 'dir', 'x.json'));
    expect(raw.subarray(0, 7).toString()).toBe('{"a":1}');
    expect(await readdir(join(root, '.tmp'))).toEqual([]);
  });

  it('reads a file without our trailer as plain content, and lists it whole', async () => {
    const root = await newRoot();
    const store = fileSystemBlobStore({ root });
    await store.createContainer('c');
    await writeFile(join(root, 'c', 'stray'), 'not a blob');
    const blob = await store.getBlob('c', 'stray');
    expect(await blob?.text()).toBe('not a blob');
    expect(blob?.metadata).toEqual({});
    expect((await store.list('c')).items.map((i) => [i.name, i.size])).toEqual([['stray', 10]]);
  });

  it('reads a plain file over 1 MiB whole, and a blob over 1 MiB with a trailer longer than syncReadMaxBytes', async () => {
    const root = await newRoot();
    const store = fileSystemBlobStore({ root, syncReadMaxBytes: 1024 });
    await store.createContainer('c');
    const plain = Buffer.alloc(2 * 1024 * 1024 + 5, 3);
    await writeFile(join(root, 'c', 'stray'), plain);
    const stray = await store.getBlob('c', 'stray');
    expect(stray?.size).toBe(plain.byteLength);
    expect(stray?.metadata).toEqual({});
    expect(Buffer.from((await stray?.bytes()) ?? []).equals(plain)).toBe(true);
    // Metadata of 4 KiB makes a trailer over the 1 KiB read synchronously: read asynchronously.
    const big = Buffer.alloc(2 * 1024 * 1024, 9);
    const metadata = { note: 'x'.repeat(4096) };
    await store.putBlob('c', 'big', big, { metadata });
    const blob = await store.getBlob('c', 'big');
    expect(blob?.metadata).toEqual(metadata);
    expect(blob?.size).toBe(big.byteLength);
    expect(Buffer.from((await blob?.bytes()) ?? []).equals(big)).toBe(true);
  });

  it('refuses to follow a symlinked folder out of the root', async () => {
    const root = await newRoot();
    const outside = await newRoot();
    const store = fileSystemBlobStore({ root });
    await store.createContainer('c');
    await symlink(outside, join(root, 'c', 'sub'));
    await expect(store.putBlob('c', 'sub/owned.txt', 'x')).rejects.toSatisfy((e) =>
      VmkitError.is(e, 'CORRUPT'),
    );
    await expect(store.getBlob('c', 'sub/x')).rejects.toSatisfy((e) => VmkitError.is(e, 'CORRUPT'));
    expect(await readdir(outside)).toEqual([]);
    await symlink(outside, join(root, 'linked'));
    await expect(store.list('linked')).rejects.toSatisfy((e) => VmkitError.is(e, 'CORRUPT'));
  });

  it('does not follow a symlink planted in the store', async () => {
    const root = await newRoot();
    const outside = await newRoot();
    await writeFile(join(outside, 'secret'), 'secret');
    const store = fileSystemBlobStore({ root });
    await store.createContainer('c');
    await symlink(join(outside, 'secret'), join(root, 'c', 'link'));
    expect(await store.getBlob('c', 'link')).toBeUndefined();
  });

  it('removes folders a removed blob leaves empty, and a blob cannot clash with a folder', async () => {
    const root = await newRoot();
    const store = fileSystemBlobStore({ root });
    await store.createContainer('c');
    await store.putBlob('c', 'a/b/c', 'x');
    await expect(store.putBlob('c', 'a/b', 'y')).rejects.toSatisfy((e) => VmkitError.is(e, 'CONFLICT'));
    await store.removeBlob('c', 'a/b/c');
    expect(await readdir(join(root, 'c'))).toEqual([]);
  });

  it.each([
    ['synchronous', undefined],
    ['asynchronous', 0],
  ])(
    'serves blobs over 1 MiB as streams and detects a replacement after getBlob (%s reads)',
    async (_, syncReadMaxBytes) => {
      const root = await newRoot();
      const store = fileSystemBlobStore({
        root,
        ...(syncReadMaxBytes === undefined ? {} : { syncReadMaxBytes }),
      });
      await store.createContainer('c');
      const big = Buffer.alloc(3 * 1024 * 1024, 7);
      await store.putBlob('c', 'big', big, { metadata: { k: 'v' } });
      const blob = await store.getBlob('c', 'big');
      expect(blob?.metadata).toEqual({ k: 'v' });
      expect(blob?.size).toBe(big.byteLength);
      expect(blob?.etag).toBe((await store.list('c', { maxKeys: 10 })).items[0]?.etag);
      expect(Buffer.from((await blob?.bytes()) ?? []).equals(big)).toBe(true);
      await store.putBlob('c', 'big', Buffer.alloc(2 * 1024 * 1024, 1));
      expect(() => blob?.stream()).toThrow(/changed/);
    },
  );

  it('fails with STORE errors naming the call and keeping the system error, never a bare one', async () => {
    const root = await newRoot();
    const store = fileSystemBlobStore({ root });
    await store.createContainer('c');
    await store.putBlob('c', 'dir/blob', 'x');
    await expect(store.removeBlob('c', 'dir')).rejects.toMatchObject({
      code: 'STORE',
      details: { operation: 'removeBlob', container: 'c', name: 'dir' },
      cause: { code: 'EISDIR' },
    });
    // A file where the store keeps its temp files: every write fails, as a STORE error.
    const other = await newRoot();
    await writeFile(join(other, '.tmp'), 'in the way');
    const blocked = fileSystemBlobStore({ root: other });
    await blocked.createContainer('c');
    const error = await blocked.putBlob('c', 'new', 'x').catch((e: unknown) => e);
    expect(VmkitError.is(error, 'STORE')).toBe(true);
    expect(error).toMatchObject({
      retryable: false,
      details: { operation: 'putBlob', container: 'c', name: 'new', errno: 'EEXIST' },
      cause: { code: 'EEXIST' },
    });
  });

  it('validates its options', () => {
    expect(() => fileSystemBlobStore({ root: '' })).toThrow(/root/);
  });
});
