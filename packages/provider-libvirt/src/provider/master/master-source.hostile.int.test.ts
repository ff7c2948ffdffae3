import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MasterSpec } from '@vmkit/core';
import { runMasterBuild } from '@vmkit/core/spi';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../../test-support/test-guest.js';
import { libvirtProvider } from '../libvirt-provider.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const dir = mkdtempSync(join(tmpdir(), 'vmkit-hostile-src-'));
const qemuImg = (...args: string[]) => execFileSync('qemu-img', args, { stdio: 'pipe' });

function diskSpec(id: string, path: string, format?: string): MasterSpec {
  return {
    id,
    os: { family: 'linux', version: 'hostile', arch: 'x86_64' },
    source: { type: 'disk', path, ...(format ? { format } : {}) },
  } as MasterSpec;
}

describe('libvirt disk masters: hostile sources are refused before qemu-img or the pool see them', () => {
  const prefix = runPrefix('h');
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses each with the rule named and leaves nothing in the pool', async () => {
    const backed = join(dir, 'backed.qcow2');
    qemuImg('create', '-f', 'qcow2', '-b', '/etc/hostname', '-F', 'raw', backed);
    const qed = join(dir, 'disk.qed');
    qemuImg('create', '-f', 'qed', qed, '16M');
    const shadow = join(dir, 'shadow.vmdk');
    writeFileSync(
      shadow,
      '# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 8 FLAT "/etc/shadow" 0\n',
    );
    const vdi = join(dir, 'disk.vdi');
    qemuImg('create', '-f', 'vdi', vdi, '16M');
    const cases: Array<[string, string, string | undefined, string]> = [
      ['backed', backed, undefined, 'qcow2-backing-file'],
      ['rawclaim', backed, 'raw', 'qcow2-backing-file'],
      ['qed', qed, undefined, 'qed'],
      ['shadow', shadow, 'vmdk', 'vmdk-create-type'],
      ['claimed', vdi, 'vmdk', 'format-mismatch'],
    ];
    const provider = libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix });
    try {
      for (const [id, path, format, rule] of cases) {
        const error = await runMasterBuild(provider, diskSpec(id, path, format), id).catch((e: unknown) => e);
        expect([id, error]).toMatchObject([id, { code: 'INVALID_ARGUMENT', details: { rule } }]);
        expect((error as Error).message).toContain(`rule ${rule}`);
      }
    } finally {
      await provider.close();
    }
    expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [] });
  });

  it('still converts a safe VDI source into a qcow2 master', async () => {
    const vdi = join(dir, 'ok.vdi');
    qemuImg('create', '-f', 'vdi', vdi, '16M');
    const provider = libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix });
    try {
      const ref = await runMasterBuild(provider, diskSpec('okvdi', vdi, 'vdi'), 'okvdi');
      expect(ref.data).toMatchObject({ format: 'qcow2', capacityBytes: 16 << 20 });
    } finally {
      await provider.close();
    }
  });
});
