import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
