import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { libvirtProvider } from './libvirt-provider.js';
import { masterNames } from './master/build-state.js';
import { renderBuildDomainMetadata } from './node/node-metadata.js';
import { buildDomainXml } from './xml/domain-xml.js';
import { volumeXml } from './xml/storage-xml.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('h');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-housekeeping-'));
const spec = testGuestMasterSpec('hk-guest');

const service = () =>
  createComputeService({
    provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
    store: fileSystemBlobStore({ root: join(dir, 'store') }),
    images: [spec],
    ports: { leaseDir: join(dir, 'leases') },
  });

/** Leaves what a build whose process was killed during installation leaves: its domain and disk. */
async function plantCrashedBuild(client: LibvirtClient, masterName: string): Promise<string[]> {
  const names = masterNames(prefix, masterName);
  const pool = await client.storage.poolLookupByName(POOL);
  await client.storage.volCreateXml(
    pool,
    volumeXml({ name: names.volume, capacityBytes: 1 << 30, format: 'qcow2' }),
  );
  await client.domains.defineXml(
    buildDomainXml({
      name: names.installer,
      type: 'qemu',
      machine: 'pc',
      memoryMiB: 128,
      vcpus: 1,
      boot: { kind: 'disk' },
      disks: [{ pool: POOL, volume: names.volume, format: 'qcow2', role: 'disk' }],
      nics: [],
      qemuCommandLine: true,
      metadata: renderBuildDomainMetadata(names.installer, spec.id, names.volume, 'installer'),
    }),
  );
  return [names.installer, names.volume];
}

describe('pruneImages and diskUsage on qemu:///system', () => {
  let client: LibvirtClient;
  beforeAll(async () => {
    client = await LibvirtClient.connect(URI);
  });
  afterAll(async () => {
    await client.close();
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('measures masters, nodes and a crashed build; prune removes the leftovers, then the unused master; nothing is left', async () => {
    await using compute = await service();
    await compute.ensureImage(spec.id);
    const planted = await plantCrashedBuild(client, 'vmkit-hk-guest-deadbeef-0001');
    const [node] = await compute.createNodesInGroup('hk', 1);

    const usage = await compute.diskUsage();
    expect(usage.masters).toHaveLength(1);
    expect(usage.masters[0]?.allocatedBytes).toBeGreaterThan(1_000_000); // the installed guest
    expect(usage.masters[0]?.virtualBytes).toBeGreaterThanOrEqual(1 << 30);
    expect(usage.nodes.map((n) => n.name)).toEqual([node?.name]);
    expect(usage.nodes[0]?.allocatedBytes).toBeLessThan(usage.masters[0]?.allocatedBytes as number);
    expect(usage.leftovers.map((l) => l.id).sort()).toEqual([...planted].sort());

    const dry = await compute.pruneImages({ dryRun: true });
    expect(dry.removed.map((r) => r.id).sort()).toEqual([...planted].sort());
    expect((await leftovers(URI, prefix, POOL)).domains).toContain(planted[0]);

    const first = await compute.pruneImages();
    expect(first.failed).toEqual([]);
    expect(first.removed.map((r) => r.id).sort()).toEqual([...planted].sort());
    expect(first.kept).toContainEqual({ kind: 'image', id: spec.id, reason: 'used by 1 node(s)' });
    const left = await leftovers(URI, prefix, POOL);
    expect(left.domains).toEqual([`${prefix}${node?.name}`]);
    expect(left.volumes.some((v) => v.includes('deadbeef'))).toBe(false);

    await compute.destroyNode(node?.id as string);
    const second = await compute.pruneImages();
    expect(second.removed.map((r) => `${r.kind}:${r.id}`)).toEqual([`image:${spec.id}`]);
    expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [] });
    expect((await compute.getImage(spec.id))?.status).toBe('buildable');
  });

  it('refuses to remove what is not an artefact of a vmkit build', async () => {
    const provider = libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix });
    try {
      const base = { masterName: 'x', masterId: 'x', inUse: false };
      await expect(provider.removeArtefact({ ...base, id: 'default', kind: 'volume' })).rejects.toThrow(
        /artefact.id/,
      );
      await expect(
        provider.removeArtefact({ ...base, id: `${prefix}web-1`, kind: 'domain' }),
      ).rejects.toThrow(/not an artefact of a vmkit build/);
    } finally {
      await provider.close();
    }
  });
});
