import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createComputeService, type MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  diskImage,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../test-support/vbox-env.js';
import { SIM_BYTES_PER_WRITE } from '../testing/index.js';

describe('pruneImages and diskUsage on VirtualBox (the simulator)', () => {
  let env: VboxTestEnv;
  const spec = (id: string): MasterSpec => ({
    id,
    os: { family: 'linux', version: 'test', arch: 'x86_64' },
    source: { type: 'disk', path: diskImage(env.folder, 'qcow2', `${id}.qcow2`), format: 'qcow2' },
    hardware: { cores: 1, ramMiB: 256 },
  });
  const service = (store: string, images: MasterSpec[]) =>
    createComputeService({
      provider: testProvider(env),
      store: fileSystemBlobStore({ root: join(env.folder, store) }),
      images,
      ports: { leaseDir: join(env.folder, 'leases') },
    });
  const machines = () => join(env.folder, 'machines');
  /** Master files in the machine folder. */
  const masterFiles = () => readdirSync(machines()).filter((f) => f.startsWith(`${env.prefix}m-`));

  beforeAll(async () => {
    env = await vboxTestEnv();
  });
  afterAll(async () => {
    await env.close();
  });

  it('measures masters, nodes and an unrecorded master as the simulator holds them; prune removes the unrecorded master, then the unused one; nothing is left', async () => {
    const sim = simOf(env);
    const kept = spec('vbox-hk');
    await using compute = await service('store', [kept]);
    await compute.ensureImage(kept.id);
    const [node] = await compute.createNodesInGroup('hk', 1, { configDrive: true, userData: 'x' });

    // Another process, with a store since lost, built a master under the same prefix: a master
    // machine and its VDI that no record names.
    const orphanSpec = spec('vbox-hk-orphan');
    {
      await using other = await service('lost-store', [orphanSpec]);
      await other.ensureImage(orphanSpec.id);
    }
    rmSync(join(env.folder, 'lost-store'), { recursive: true, force: true });
    const orphan = sim.machines().find((m) => m.name.includes('vbox-hk-orphan'));
    expect(orphan?.registered).toBe(true);
    const orphanVdi = masterFiles().find((f) => f.includes('vbox-hk-orphan'));
    expect(orphanVdi).toMatch(/\.vdi$/);
    // What its post-install boot would have left had it been killed then; and files that are no
    // build's (a name no master name makes, someone's own file): never touched.
    const drive = `${orphan?.name}-post-install-0123456789abcdef.iso`;
    writeFileSync(join(machines(), drive), 'cidata');
    const strangers = [`${env.prefix}m-notamaster.vdi`, 'mine.vdi'];
    for (const f of strangers) writeFileSync(join(machines(), f), 'not vmkit');

    const usage = await compute.diskUsage();
    // The master: its VDI as the file holds it (size on disk, capacity from its header).
    const keptVdi = join(machines(), masterFiles().find((f) => f.includes('vbox-hk-')) ?? '');
    const capacity = (path: string) =>
      (
        JSON.parse(execFileSync('qemu-img', ['info', '--output=json', path], { encoding: 'utf8' })) as {
          'virtual-size': number;
        }
      )['virtual-size'];
    expect(usage.masters).toEqual([
      expect.objectContaining({
        imageId: kept.id,
        nodes: 1,
        allocatedBytes: statSync(keptVdi).size,
        virtualBytes: capacity(keptVdi),
      }),
    ]);
    // The node: its differencing disk (as the simulator counts its writes) and its config drive file.
    const own = sim.machines().find((m) => m.name === node?.id)?.media ?? [];
    const media = sim.media().filter((m) => own.includes(m.location));
    expect(media.some((m) => m.deviceType === 'DVD' && m.file)).toBe(true);
    const nodeBytes = media.reduce(
      (n, m) => n + (m.file ? statSync(m.location).size : m.writes * SIM_BYTES_PER_WRITE),
      0,
    );
    expect(usage.nodes).toEqual([expect.objectContaining({ id: node?.id, allocatedBytes: nodeBytes })]);
    expect(nodeBytes).toBeGreaterThan(0);
    const orphanPath = join(machines(), orphanVdi ?? '');
    expect(usage.leftovers.map((l) => [l.id, l.kind, l.allocatedBytes, l.virtualBytes]).sort()).toEqual(
      [
        [orphan?.name, 'machine', 0, 0],
        [orphanVdi, 'file', statSync(orphanPath).size, capacity(orphanPath)],
        [drive, 'file', 6, 6],
      ].sort(),
    );

    const first = await compute.pruneImages();
    expect(first.failed).toEqual([]);
    expect(first.removed.map((r) => `${r.kind}:${r.id}`).sort()).toEqual(
      [`leftover:${orphan?.name}`, `leftover:${orphanVdi}`, `leftover:${drive}`].sort(),
    );
    expect(first.kept).toContainEqual({ kind: 'image', id: kept.id, reason: 'used by 1 node(s)' });
    // Gone from VirtualBox's registry and from the disk.
    expect(sim.machines().map((m) => m.name)).not.toContain(orphan?.name);
    expect(sim.media().map((m) => m.location)).not.toContain(orphanPath);
    expect(existsSync(orphanPath)).toBe(false);
    expect(existsSync(join(machines(), drive))).toBe(false);
    for (const f of strangers) expect(existsSync(join(machines(), f))).toBe(true);
    expect(existsSync(keptVdi)).toBe(true);

    await compute.destroyNode(node?.id as string);
    const second = await compute.pruneImages();
    expect(second.removed.map((r) => `${r.kind}:${r.id}`)).toEqual([`image:${kept.id}`]);
    expect(sim.machines().filter((m) => m.name.startsWith(env.prefix))).toEqual([]);
    expect(sim.media().filter((m) => m.location.startsWith(machines()))).toEqual([]);
    expect(masterFiles()).toEqual([strangers[0]]);
    expect((await compute.getImage(kept.id))?.status).toBe('buildable');
    expect(sim.rejections).toEqual([]);
  });

  it('refuses to remove what is not an artefact of a vmkit build', async () => {
    const provider = testProvider(env);
    try {
      const base = { masterName: 'x', masterId: 'x', inUse: false };
      await expect(provider.removeArtefact({ ...base, id: 'default', kind: 'machine' })).rejects.toThrow(
        /artefact.id/,
      );
      await expect(
        provider.removeArtefact({ ...base, id: `${env.prefix}web-1`, kind: 'machine' }),
      ).rejects.toThrow(/not an artefact of a vmkit build/);
      await expect(
        provider.removeArtefact({ ...base, id: `${env.prefix}m-x/../../etc.vdi`, kind: 'file' }),
      ).rejects.toThrow(/not an artefact of a vmkit build/);
    } finally {
      await provider.close();
    }
  });
});
