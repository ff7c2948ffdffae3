import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compressDisk } from './compress-disk.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-compress-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** 8 MiB of repetitive data: compresses well, and qemu-img must keep every byte. */
async function rawDisk(): Promise<string> {
  const file = join(dir, 'in.raw');
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i++) block[i] = i % 251;
  const handle = await open(file, 'w');
  for (let i = 0; i < 8; i++) await handle.write(block);
  await handle.close();
  return file;
}

describe('compressDisk', () => {
  it('rewrites a disk as a smaller qcow2 with compressed clusters holding the same bytes, and removes the input', async () => {
    const input = await rawDisk();
    const original = await readFile(input);
    const out = join(dir, 'out.qcow2');
    await writeFile(out, '');
    expect(await compressDisk(input, 'raw', out)).toBe('qcow2');
    expect(existsSync(input)).toBe(false);
    const header = (await readFile(out)).subarray(0, 4);
    expect(header.toString('latin1')).toBe('QFI\xfb');
    expect((await stat(out)).size).toBeLessThan(original.length / 4);
    const back = join(dir, 'back.raw');
    execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', out, back]);
    expect((await readFile(back)).equals(original)).toBe(true);
  });

  it('moves the disk as it is and says none where qemu-img is not installed', async () => {
    const input = await rawDisk();
    const out = join(dir, 'out');
    await writeFile(out, '');
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'no-such-bin');
    try {
      expect(await compressDisk(input, 'raw', out)).toBe('none');
    } finally {
      process.env.PATH = path;
    }
    expect((await stat(out)).size).toBe(8 << 20);
    expect(existsSync(input)).toBe(false);
  });
});
