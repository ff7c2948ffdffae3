import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFat, writeFatToFile } from '../fat/fat-writer.js';
import { writeIso9660, writeIso9660ToFile } from '../iso9660/iso-writer.js';
import { fromFile } from '../media-entry.js';
import { buildMediaTree } from '../media-tree.js';

describe('writers and their sinks', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-sink-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it.each([
    ['writeIso9660', (e: never[]) => writeIso9660(e, { volumeId: 'TURNS' })],
    ['writeFat', (e: never[]) => writeFat(e, { label: 'TURNS' })],
  ] as const)('%s gives the event loop a turn between 4 MiB reads of a fromFile source', async (_, write) => {
    const path = join(dir, 'ten-mib.bin');
    const content = new Uint8Array(10 * 1024 * 1024).map((_, i) => i & 0xff);
    await writeFile(path, content);
    const entries = [{ path: 'big.bin', content: await fromFile(path) }];
    let turns = 0;
    let writing = true;
    const tick = () => {
      if (!writing) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const image = await write(entries as never[]);
    writing = false;
    // 10 MiB in 4 MiB reads: at least two turns between them.
    expect(turns).toBeGreaterThanOrEqual(2);
    expect(Buffer.from(image).indexOf(Buffer.from(content.subarray(0, 64)))).toBeGreaterThan(0);
  });

  it('a path in a missing directory is INVALID_ARGUMENT naming path, and nothing is left', async () => {
    const target = join(dir, 'missing', 'x.img');
    for (const write of [
      () => writeIso9660ToFile([{ path: 'a', content: 'x' }], target, { volumeId: 'X' }),
      () => writeFatToFile([{ path: 'a', content: 'x' }], target, { label: 'X' }),
    ]) {
      await expect(write()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'path' } });
    }
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'x');
    await expect(
      writeIso9660ToFile([{ path: 'a', content: 'x' }], join(blocker, 'x.iso'), { volumeId: 'X' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'path' } });
    expect((await readdir(dir)).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });

  it('refuses symlink targets over 1,024 UTF-8 bytes', () => {
    const tree = (target: string) =>
      buildMediaTree([{ path: 'l', target }], { defaultMtime: new Date(0), maxFileSize: 1 });
    expect(tree('t'.repeat(1024)).children[0]?.target).toHaveLength(1024);
    expect(() => tree('t'.repeat(1025))).toThrow(
      expect.objectContaining({ details: { field: 'entries[0].target' } }),
    );
  });
});
