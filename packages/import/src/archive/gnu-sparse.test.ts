import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandGnuSparse } from './gnu-sparse.js';
import { unpackTar } from './tar-unpack.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-sparse-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Members of a tar read through the expander: name, type and content. */
async function members(tar: Readable, maxBytes = 1 << 30) {
  const ex = extract();
  const out: Array<{ name: string; type: string | null; body: Buffer }> = [];
  const reading = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
      out.push({ name: entry.header.name, type: entry.header.type, body: Buffer.concat(chunks) });
    }
  })();
  await Promise.all([pipeline(tar, expandGnuSparse(maxBytes), ex), reading]);
  return out;
}

describe('GNU sparse members (tar -S)', () => {
  it('a file of ten data runs and holes (extended sparse headers) comes out whole, beside plain members', async () => {
    const file = join(dir, 'holes.img');
    const h = await open(file, 'w');
    for (let i = 0; i < 10; i++) await h.write(Buffer.alloc(4096, i + 1), 0, 4096, i * 65536 + 512 * i);
    await h.truncate(10 * 65536 + 100_000);
    await h.close();
    execFileSync('bash', [
      '-c',
      `cd ${dir} && echo hi > a.txt && echo there > b.txt && tar -S -cf sparse.tar a.txt holes.img b.txt`,
    ]);
    const plain = await members(createReadStream(join(dir, 'sparse.tar')));
    expect(plain.map((m) => [m.name, m.type])).toEqual([
      ['a.txt', 'file'],
      ['holes.img', 'file'],
      ['b.txt', 'file'],
    ]);
    expect(plain[1]!.body.equals(await readFile(file))).toBe(true);
    expect(plain[2]!.body.toString()).toBe('there\n');
  });

  it('refuses a sparse member whose real size is over the limit before expanding it', async () => {
    const file = join(dir, 'big.img');
    const h = await open(file, 'w');
    await h.write(Buffer.alloc(10, 1), 0, 10, 50_000_000);
    await h.close();
    execFileSync('bash', ['-c', `cd ${dir} && tar -S -cf big.tar big.img`]);
    await expect(members(createReadStream(join(dir, 'big.tar')), 1_000_000)).rejects.toThrow(
      /50000010 bytes is more than limits.maxImageBytes .*rule box-size/,
    );
  });

  it('refuses, before writing it, a sparse member that would not fit the free space: a tiny box cannot fill the disk', async () => {
    const file = join(dir, 'huge.img');
    const h = await open(file, 'w');
    await h.write(Buffer.alloc(10, 1), 0, 10, 0);
    await h.truncate(8 * 1024 ** 4); // 8 TiB, nearly all holes
    await h.close();
    execFileSync('bash', ['-c', `cd ${dir} && tar -S -cf huge.tar huge.img && rm huge.img`]);
    const into = await mkdtemp(join(dir, 'unpack-'));
    const unpacking = unpackTar(createReadStream(join(dir, 'huge.tar')), into, {
      kind: 'box',
      maxBytes: 2 ** 50,
      signal: new AbortController().signal,
      loose: true,
      isText: () => false,
    });
    await expect(unpacking).rejects.toThrow(
      /holds 8796093022208 bytes but the scratch folder has \d+ bytes free .*rule box-size/,
    );
    expect(await readdir(into)).toEqual([]);
  });
});
