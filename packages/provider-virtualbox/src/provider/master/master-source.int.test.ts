import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MasterSpec } from '@vmkit/core';
import { runMasterBuild, VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskImage, testProvider, type VboxTestEnv, vboxTestEnv } from '../../../test-support/vbox-env.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('VirtualBox masters from disk images (qemu-img makes the test disks)', () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    env = await vboxTestEnv();
  });
  afterAll(async () => {
    await env.close();
  });
  const spec = (id: string, path: string, extra = {}): MasterSpec => ({
    id,
    os: { family: 'linux', version: 'test', arch: 'x86_64' },
    source: { type: 'disk', path, ...extra },
  });
  const machineFiles = () =>
    existsSync(join(env.folder, 'machines')) ? readdirSync(join(env.folder, 'machines')) : [];

  for (const format of ['vdi', 'vmdk', 'vpc'] as const) {
    it(`opens a ${format} disk as it is, never writes it, and deleting the master leaves the user's file`, async () => {
      const path = diskImage(env.folder, format, `user-${format}.img.${format === 'vpc' ? 'vhd' : format}`);
      const before = sha(path);
      const provider = testProvider(env);
      const ref = await runMasterBuild(provider, spec(`disk-${format}`, path), `disk-${format}`);
      expect(ref.data).toMatchObject({ disk: path, ownsDisk: false });
      const node = await provider.cloneNode({
        name: `n-${format}`,
        group: 'g',
        imageId: `disk-${format}`,
        master: ref,
        hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
        network: { nics: [] },
        linked: true,
        tags: [],
        userMetadata: {},
      });
      await provider.startNode(node.id);
      await provider.destroyNode(node.id);
      await provider.deleteMaster(ref);
      expect(existsSync(path)).toBe(true);
      expect(sha(path)).toBe(before);
      if (env.sim) {
        expect(env.sim.media().filter((m) => m.location === path)).toEqual([]);
        expect(env.sim.writes().filter((w) => w.medium === path)).toEqual([]);
        expect(env.sim.rejections).toEqual([]);
      }
      await provider.close();
    });
  }

  it('converts a qcow2 disk to VDI with qemu-img; the converted disk goes with the master', async () => {
    const path = diskImage(env.folder, 'qcow2');
    const provider = testProvider(env);
    const ref = await runMasterBuild(provider, spec('disk-qcow2', path), 'disk-qcow2');
    const data = ref.data as { disk: string; ownsDisk: boolean };
    expect(data.ownsDisk).toBe(true);
    expect(data.disk.endsWith('.vdi')).toBe(true);
    expect(readFileSync(data.disk).readUInt32LE(64)).toBe(0xbeda107f);
    await provider.deleteMaster(ref);
    expect(existsSync(data.disk)).toBe(false);
    expect(existsSync(path)).toBe(true);
    await provider.close();
  });

  it('refuses hostile disks by the rules of the inspector before VirtualBox or qemu-img read them', async () => {
    const backing = diskImage(env.folder, 'qcow2', 'base.qcow2');
    const evil = join(env.folder, 'evil.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', backing, evil]);
    const flat = join(env.folder, 'flat.vmdk');
    execFileSync('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', flat, '1M']);
    const vdi = diskImage(env.folder, 'vdi', 'claimed.vdi');
    const provider = testProvider(env);
    const cases: Array<[string, MasterSpec, RegExp]> = [
      ['backing', spec('disk-evil', evil), /qcow2-backing-file|backing file/],
      ['flat', spec('disk-flat', flat), /vmdk/],
      ['claimed', spec('disk-claimed', vdi, { format: 'vmdk' }), /format-mismatch|not vmdk|vmdk/],
    ];
    for (const [name, bad, rule] of cases) {
      const error = await runMasterBuild(provider, bad, `disk-${name}`).catch((e: unknown) => e);
      expect(VmkitError.is(error, 'INVALID_ARGUMENT'), `${name}: ${String(error)}`).toBe(true);
      expect((error as Error).message).toMatch(/^source/);
      expect((error as Error).message).toMatch(rule);
      expect(machineFiles().filter((f) => f.includes(`disk-${name}`))).toEqual([]);
    }
    // VirtualBox never saw them: no medium was opened or registered.
    expect(env.sim?.media().filter((m) => /evil|flat|claimed/.test(m.location)) ?? []).toEqual([]);
    await provider.close();
  });

  it('refuses a qcow2 disk clearly when qemu-img is missing, and leaves nothing', async () => {
    const path = diskImage(env.folder, 'qcow2', 'other.qcow2');
    const provider = testProvider(env, { qemuImg: '/nonexistent/qemu-img' });
    const error = (await runMasterBuild(provider, spec('disk-noqemu', path), 'disk-noqemu').catch(
      (e: unknown) => e,
    )) as VmkitError;
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect(error.message).toMatch(
      /^source\.format: qcow2 disks must be converted to VDI with qemu-img, which was not found/,
    );
    expect(machineFiles().filter((f) => f.includes('disk-noqemu'))).toEqual([]);
    await provider.close();
  });

  it('refuses a disk whose sha256 does not match (CORRUPT naming source.sha256) and a missing file', async () => {
    const path = diskImage(env.folder, 'vdi', 'sum.vdi');
    const provider = testProvider(env);
    const bad = await runMasterBuild(
      provider,
      spec('disk-sum', path, { sha256: '0'.repeat(64) }),
      'disk-sum',
    ).catch((e: unknown) => e);
    expect(VmkitError.is(bad, 'CORRUPT')).toBe(true);
    expect((bad as Error).message).toMatch(/^source\.sha256:/);
    const missing = await runMasterBuild(
      provider,
      spec('disk-missing', join(env.folder, 'nope.vdi')),
      'disk-missing',
    ).catch((e: unknown) => e);
    expect(VmkitError.is(missing, 'INVALID_ARGUMENT')).toBe(true);
    expect((missing as Error).message).toMatch(/^source\.path: no file at/);
    expect(env.sim?.machines() ?? []).toEqual([]);
    await provider.close();
  });
});
