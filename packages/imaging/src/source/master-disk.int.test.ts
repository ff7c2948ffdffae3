import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qemuImgConverter } from '../convert/qemu-img-converter.js';
import { fetchMasterDisk } from './master-disk.js';

/** The source as a libvirt-like hypervisor takes it: qcow2 and raw as they are, the rest converted to qcow2. */
const prepareDisk = (path: string, format?: string) =>
  fetchMasterDisk({ path, ...(format ? { format } : {}) }, { native: ['qcow2', 'raw'], convertTo: 'qcow2' });

const dir = mkdtempSync(join(tmpdir(), 'vmkit-src-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const qemuImg = (...args: string[]) => execFileSync('qemu-img', args, { stdio: 'pipe' });

describe('fetchMasterDisk on images made by qemu-img', () => {
  it('accepts a plain qcow2 image', async () => {
    const path = join(dir, 'plain.qcow2');
    qemuImg('create', '-f', 'qcow2', path, '16M');
    expect(await prepareDisk(path)).toMatchObject({ format: 'qcow2', virtualSize: 16 << 20 });
  });

  it('refuses a qcow2 image whose backing file is a host file', async () => {
    const path = join(dir, 'evil.qcow2');
    qemuImg('create', '-f', 'qcow2', '-b', '/etc/hostname', '-F', 'raw', path);
    await expect(prepareDisk(path)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/source.*rule qcow2-backing-file.*\/etc\/hostname/),
    });
  });

  it('refuses a qcow2 image with an external data file', async () => {
    const path = join(dir, 'ext.qcow2');
    qemuImg('create', '-f', 'qcow2', '-o', `data_file=${join(dir, 'ext.raw')}`, path, '16M');
    await expect(prepareDisk(path, 'qcow2')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/source.*rule qcow2-data-file/),
    });
  });
});

describe('fetchMasterDisk converting what the hypervisor does not open', () => {
  const folder = join(dir, 'machines');
  const MiB = 1024 * 1024;
  let server: Server;
  let base = '';
  beforeAll(async () => {
    mkdirSync(folder);
    server = createServer((req, res) => res.end(readFileSync(join(dir, (req.url as string).slice(1)))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());
  const where = (name: string) => ({
    native: ['vdi', 'vmdk', 'vhd'] as const,
    convertTo: 'vdi',
    downloadTo: join(folder, `${name}.img`),
    convertedTo: join(folder, `${name}.vdi`),
  });

  it('converts a downloaded qcow2 to the given file, same contents, and removes the download', async () => {
    const raw = join(dir, 'src.raw');
    writeFileSync(raw, randomBytes(4 * MiB));
    qemuImg('convert', '-f', 'raw', '-O', 'qcow2', raw, join(dir, 'src.qcow2'));
    const fractions: number[] = [];
    const disk = await fetchMasterDisk(
      { url: `${base}/src.qcow2`, format: 'qcow2' },
      { ...where('m1'), native: ['vdi'], onProgress: (f) => fractions.push(f) },
    );
    expect(disk).toMatchObject({ path: join(folder, 'm1.vdi'), format: 'vdi', converted: true, owned: true });
    expect(disk.virtualSize).toBe(4 * MiB);
    expect(fractions.at(-1)).toBe(1);
    qemuImg('compare', '-q', '-f', 'raw', '-F', 'vdi', raw, disk.path);
    expect(readdirSync(folder)).toEqual(['m1.vdi']);
    await disk.dispose();
    expect(readdirSync(folder)).toEqual([]);
  });

  it('an abort during the conversion (on observed progress) leaves neither the download nor a partial disk', async () => {
    const raw = join(dir, 'big.raw');
    writeFileSync(raw, randomBytes(48 * MiB));
    const controller = new AbortController();
    const error = await fetchMasterDisk(
      { url: `${base}/big.raw` },
      {
        ...where('m2'),
        converter: qemuImgConverter({ rateLimitBytesPerSecond: 4 * MiB }),
        signal: controller.signal,
        onProgress: (f) => {
          if (f > 0) controller.abort();
        },
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ABORTED' });
    expect(readdirSync(folder)).toEqual([]);
  });

  it('refuses clearly, naming source.format, where qemu-img is missing, and leaves nothing', async () => {
    qemuImg('create', '-f', 'qcow2', join(dir, 'small.qcow2'), '1M');
    const error = await fetchMasterDisk(
      { url: `${base}/small.qcow2` },
      { ...where('m3'), converter: qemuImgConverter({ binary: join(dir, 'no-qemu-img') }) },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNSUPPORTED', details: { field: 'source.format' } });
    expect((error as Error).message).toMatch(
      /^source\.format: qcow2 disks must be converted to VDI with qemu-img, which was not found/,
    );
    expect(readdirSync(folder)).toEqual([]);
  });

  it('refuses a hostile download before any conversion, and removes it', async () => {
    qemuImg('create', '-f', 'qcow2', '-b', '/etc/hostname', '-F', 'raw', join(dir, 'evil2.qcow2'));
    await expect(fetchMasterDisk({ url: `${base}/evil2.qcow2` }, where('m4'))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { rule: 'qcow2-backing-file' },
    });
    expect(readdirSync(folder)).toEqual([]);
  });
});
