import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeIso9660ToFile } from '../iso9660/iso-writer.js';
import { readIso9660 } from '../iso9660/read/iso-reader.js';
import { bootIsoCache } from './boot-iso-cache.js';

let root: string;
let source: string;
let broken: string;
let n = 0;
const freshDir = () => join(root, `cache-${n++}`);
const isos = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.iso')).sort();
const everything = async (dir: string) => [
  ...(await readdir(dir)),
  ...(await readdir(join(dir, 'one-shot'))),
];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmkit-bootiso-cache-'));
  source = join(root, 'source.iso');
  const boot = {
    images: [{ platform: 'bios' as const, image: 'isolinux/isolinux.bin', bootInfoTable: true }],
  };
  await writeIso9660ToFile(
    [
      { path: 'isolinux/isolinux.bin', content: new Uint8Array(4096).fill(1) },
      { path: 'isolinux/isolinux.cfg', content: 'label a\n  kernel /vmlinuz\n  append ro\n' },
    ],
    source,
    { volumeId: 'CACHE', boot },
  );
  broken = join(root, 'broken.iso');
  await writeIso9660ToFile([{ path: 'isolinux/isolinux.bin', content: new Uint8Array(4096) }], broken, {
    volumeId: 'X',
    boot,
  });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('bootIsoCache', () => {
  it('builds once for callers asking at the same time, then serves hits', async () => {
    const dir = freshDir();
    const cache = bootIsoCache({ dir, maxBytes: 100 * 1024 * 1024 });
    const events: string[] = [];
    const [a, b] = await Promise.all([
      cache.get(source, 'm=1', { onProgress: () => events.push('a') }),
      cache.get(source, 'm=1', { onProgress: () => events.push('b') }),
    ]);
    expect(a.path).toBe(b.path);
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events).size).toBe(1); // one build: only the caller that started it sees progress
    const c = await cache.get(source, 'm=1');
    expect([a.hit, c.hit]).toEqual([false, true]);
    expect(c.path).toBe(a.path);
    const iso = await readIso9660(c.path);
    expect(new TextDecoder().decode(await iso.readFile('isolinux/isolinux.cfg'))).toContain('append ro m=1');
    const other = await cache.get(source, 'm=2');
    expect(other.path).not.toBe(a.path);
    expect(await isos(dir)).toHaveLength(2);
    expect(await cache.size()).toBe((await stat(a.path)).size + (await stat(other.path)).size);
    for (const lease of [a, b, c, other]) await lease.release();
  });

  it('evicts the least recently used within the quota, never an ISO in use', async () => {
    const dir = freshDir();
    const probe = bootIsoCache({ dir: freshDir(), maxBytes: 1e9 });
    const one = (await stat((await probe.get(source, 'x=0')).path)).size;
    const cache = bootIsoCache({ dir, maxBytes: 2 * one });
    const a = await cache.get(source, 'x=a'); // held: least recently used but in use
    const b = await cache.get(source, 'x=b');
    await b.release();
    await new Promise((r) => setTimeout(r, 20));
    const c = await cache.get(source, 'x=c');
    expect([existsSync(a.path), existsSync(b.path), existsSync(c.path)]).toEqual([true, false, true]);
    await a.release();
    await c.release();
    await new Promise((r) => setTimeout(r, 20));
    await (await cache.get(source, 'x=c')).release(); // c is now more recent than a
    const d = await cache.get(source, 'x=d');
    expect([existsSync(a.path), existsSync(c.path), existsSync(d.path)]).toEqual([false, true, true]);
    await d.release();
    expect(await cache.size()).toBeLessThanOrEqual(2 * one);
  });

  it('rebuilds after the TTL', async () => {
    const cache = bootIsoCache({ dir: freshDir(), maxBytes: 1e9, ttlMs: 30 });
    const first = await cache.get(source, 't=1');
    await first.release();
    await new Promise((r) => setTimeout(r, 60));
    const again = await cache.get(source, 't=1');
    expect(again.hit).toBe(false);
    await again.release();
  });

  it('hands out one-shot copies removed on release, the cached ISO kept', async () => {
    const dir = freshDir();
    const cache = bootIsoCache({ dir, maxBytes: 1e9 });
    const shot = await cache.get(source, 'o=1', { oneShot: true });
    expect(shot.path.startsWith(join(dir, 'one-shot'))).toBe(true);
    expect(existsSync(shot.path)).toBe(true);
    await shot.release();
    await shot.release();
    expect(existsSync(shot.path)).toBe(false);
    expect(await isos(dir)).toHaveLength(1);
  });

  it('leaves no file behind when a build fails, and validates its options', async () => {
    const dir = freshDir();
    const cache = bootIsoCache({ dir, maxBytes: 1e9 });
    await expect(cache.get(broken, 'a=1', { oneShot: true })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(cache.get(source, 'bad"')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await everything(dir)).toEqual(['one-shot']);
    expect(() => bootIsoCache({ dir, maxBytes: 0 })).toThrow(/options.maxBytes/);
    expect(() => bootIsoCache({ dir, maxBytes: 1, ttlMs: -1 })).toThrow(/options.ttlMs/);
  });
});
