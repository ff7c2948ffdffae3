import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmkitError } from '@vmkit/core/spi';
import { afterAll, describe, expect, it } from 'vitest';
import { qemuImgConverter } from './qemu-img-converter.js';

// Real qemu-img, real files: what comes out is checked with `qemu-img compare`.
const dir = mkdtempSync(join(tmpdir(), 'vmkit-conv-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);
const MiB = 1024 * 1024;

/** A raw disk of `mib` MiB with random bytes in every other MiB (so it neither compresses nor is all zero). */
function rawDisk(name: string, mib: number): string {
  const bytes = Buffer.alloc(mib * MiB);
  for (let i = 0; i < mib; i += 2) randomBytes(MiB).copy(bytes, i * MiB);
  writeFileSync(at(name), bytes);
  return at(name);
}

/** Whether qemu-img finds the two images' guest-visible contents identical (formats given, never probed). */
function same(a: string, aFormat: string, b: string, bFormat: string): boolean {
  return spawnSync('qemu-img', ['compare', '-q', '-f', aFormat, '-F', bFormat, a, b]).status === 0;
}

/** Process ids of running qemu-img processes whose command line names `path`. */
function qemuImgsNaming(path: string): string[] {
  const out = spawnSync('pgrep', ['-f', `qemu-img convert .*${path}`], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean);
}

describe('qemuImgConverter with a real qemu-img', () => {
  it('converts raw to qcow2 and qcow2 to vdi with the same contents, reporting progress up to 1', async () => {
    const raw = rawDisk('a.raw', 8);
    const progress: number[] = [];
    const converter = qemuImgConverter();
    await converter.convert({
      input: raw,
      inputFormat: 'raw',
      output: at('a.qcow2'),
      outputFormat: 'qcow2',
      onProgress: (f) => progress.push(f),
    });
    expect(same(raw, 'raw', at('a.qcow2'), 'qcow2')).toBe(true);
    expect(progress.at(-1)).toBe(1);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    await converter.convert({
      input: at('a.qcow2'),
      inputFormat: 'qcow2',
      output: at('a.vdi'),
      outputFormat: 'vdi',
    });
    expect(same(raw, 'raw', at('a.vdi'), 'vdi')).toBe(true);
  });

  it('compresses when asked, and the smaller qcow2 holds the same disk', async () => {
    writeFileSync(at('z.raw'), Buffer.alloc(8 * MiB, 7));
    await qemuImgConverter().convert({
      input: at('z.raw'),
      inputFormat: 'raw',
      output: at('z.qcow2'),
      outputFormat: 'qcow2',
      compress: true,
    });
    expect(readFileSync(at('z.qcow2')).length).toBeLessThan(MiB);
    expect(same(at('z.raw'), 'raw', at('z.qcow2'), 'qcow2')).toBe(true);
  });

  it('never probes: a raw disk whose first bytes are a qcow2 header naming a backing file converts as raw bytes', async () => {
    // A guest may write a qcow2 header into its own raw disk; probing would then read /etc/hostname.
    const raw = rawDisk('probe.raw', 2);
    execFileSync('qemu-img', [
      'create',
      '-q',
      '-f',
      'qcow2',
      '-F',
      'raw',
      '-b',
      '/etc/hostname',
      at('hdr.qcow2'),
    ]);
    const header = readFileSync(at('hdr.qcow2')).subarray(0, 64 * 1024);
    const bytes = readFileSync(raw);
    header.copy(bytes, 0);
    writeFileSync(raw, bytes);
    await qemuImgConverter().convert({
      input: raw,
      inputFormat: 'raw',
      output: at('probe.out'),
      outputFormat: 'raw',
    });
    expect(readFileSync(at('probe.out')).equals(bytes)).toBe(true);
  });

  it('an abort on observed progress ends qemu-img and leaves no partial output', async () => {
    const raw = rawDisk('slow.raw', 32);
    const output = at('slow.qcow2');
    const controller = new AbortController();
    const seen: number[] = [];
    const started = Date.now();
    const error = await qemuImgConverter({ rateLimitBytesPerSecond: 2 * MiB })
      .convert({
        input: raw,
        inputFormat: 'raw',
        output,
        outputFormat: 'qcow2',
        signal: controller.signal,
        onProgress: (f) => {
          seen.push(f);
          // The first mark past 0 proves qemu-img is writing the output.
          if (f > 0 && !controller.signal.aborted) {
            expect(existsSync(output)).toBe(true);
            controller.abort();
          }
        },
      })
      .catch((e: unknown) => e);
    expect(VmkitError.is(error, 'ABORTED')).toBe(true);
    expect(seen.some((f) => f > 0 && f < 1)).toBe(true);
    // At 2 MiB/s the 32 MiB disk would take 16 s: the abort ended it, it did not wait for it.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(existsSync(output)).toBe(false);
    expect(qemuImgsNaming(output)).toEqual([]);
  });

  it('a failure names the file and leaves no partial output; a missing qemu-img is UNSUPPORTED', async () => {
    writeFileSync(at('junk.qcow2'), Buffer.alloc(4096, 1));
    const failed = await qemuImgConverter()
      .convert({
        input: at('junk.qcow2'),
        inputFormat: 'qcow2',
        output: at('junk.raw'),
        outputFormat: 'raw',
        field: 'source',
      })
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'PROVIDER' });
    expect((failed as Error).message).toMatch(/^source: qemu-img could not convert .*junk\.qcow2 \(qcow2\)/);
    expect(existsSync(at('junk.raw'))).toBe(false);

    const missing = await qemuImgConverter({ binary: at('no-qemu-img') })
      .convert({ input: at('z.raw'), inputFormat: 'raw', output: at('m.qcow2'), outputFormat: 'qcow2' })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'UNSUPPORTED', details: { missing: true } });
    expect((missing as Error).message).toContain('z.raw');
    expect(existsSync(at('m.qcow2'))).toBe(false);
  });
});
