import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchMasterDisk } from './master-disk.js';

/** The source as a libvirt-like hypervisor takes it: qcow2 and raw as they are, the rest converted to qcow2. */
const prepareDisk = (path: string, format?: string) =>
  fetchMasterDisk({ path, ...(format ? { format } : {}) }, { native: ['qcow2', 'raw'], convertTo: 'qcow2' });

const dir = mkdtempSync(join(tmpdir(), 'vmkit-src-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A qcow2 header (version 2 or 3) with the fields the check reads. */
function qcow2Header(opts: { version?: number; backingOffset?: bigint; incompatible?: bigint } = {}): Buffer {
  const h = Buffer.alloc(128);
  h.writeUInt32BE(0x514649fb, 0);
  h.writeUInt32BE(opts.version ?? 3, 4);
  h.writeBigUInt64BE(opts.backingOffset ?? 0n, 8);
  if (opts.backingOffset) {
    h.writeUInt32BE(11, 16);
    h.write('backing.img', Number(opts.backingOffset), 'latin1');
  }
  h.writeUInt32BE(16, 20);
  h.writeBigUInt64BE(1n << 30n, 24);
  if ((opts.version ?? 3) === 3) {
    h.writeBigUInt64BE(opts.incompatible ?? 0n, 72);
    h.writeUInt32BE(104, 100);
  }
  return h;
}

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('fetchMasterDisk on qcow2 images', () => {
  it('accepts a self-contained qcow2 image and reads its virtual size', async () => {
    const disk = await prepareDisk(file('ok.qcow2', qcow2Header()));
    expect(disk).toMatchObject({ format: 'qcow2', virtualSize: 1 << 30 });
    const v2 = await prepareDisk(file('ok2.qcow2', qcow2Header({ version: 2 })), 'qcow2');
    expect(v2.virtualSize).toBe(1 << 30);
  });

  it('refuses an image with a backing file, naming source and the rule', async () => {
    for (const version of [2, 3]) {
      const path = file(`backed${version}.qcow2`, qcow2Header({ version, backingOffset: 112n }));
      await expect(prepareDisk(path)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/^source: .*rule qcow2-backing-file.*backing\.img/),
      });
    }
  });

  it('refuses an image whose data lives in an external data file', async () => {
    const path = file('ext.qcow2', qcow2Header({ incompatible: 1n << 2n }));
    await expect(prepareDisk(path, 'qcow2')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^source: .*rule qcow2-data-file/),
    });
  });

  it('refuses an unknown qcow2 version and a truncated header as CORRUPT', async () => {
    await expect(prepareDisk(file('v9.qcow2', qcow2Header({ version: 9 })))).rejects.toMatchObject({
      code: 'CORRUPT',
      details: { rule: 'malformed' },
    });
    await expect(prepareDisk(file('short.qcow2', qcow2Header().subarray(0, 40)))).rejects.toMatchObject({
      code: 'CORRUPT',
      details: { rule: 'truncated' },
    });
  });

  it('refuses a claimed format that is not the one found, before any qemu-img runs', async () => {
    await expect(prepareDisk(file('claimed.raw', qcow2Header()), 'raw')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { rule: 'format-mismatch' },
    });
    const vdi = Buffer.alloc(1024);
    vdi.writeUInt32LE(0xbeda107f, 0x40);
    vdi.writeUInt32LE(4, 0x4c);
    await expect(prepareDisk(file('diff.vdi', vdi))).rejects.toMatchObject({
      details: { rule: 'vdi-differencing' },
    });
  });
});
