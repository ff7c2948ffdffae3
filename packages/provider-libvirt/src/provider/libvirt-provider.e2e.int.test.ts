import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type ProgressEvent, RunNodesError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { runMasterBuild } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForGuestPage } from '../../test-support/http.js';
import { leftovers, sha256File, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { DomainEventType } from '../client/domain-events.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { libvirtProvider } from './libvirt-provider.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('e');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-e2e-'));
const storeRoot = join(dir, 'store');
const leaseDir = join(dir, 'leases');
const spec = testGuestMasterSpec('e2e-guest');

const service = () =>
  createComputeService({
    provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
    store: fileSystemBlobStore({ root: storeRoot }),
    images: [spec],
    ports: { leaseDir },
  });

/** Master volumes of this run (made through libvirt, so listed without a pool refresh). */
async function masterVolumeNames(client: LibvirtClient): Promise<string[]> {
  const pool = await client.storage.poolLookupByName(POOL);
  return (await client.storage.poolListAllVolumes(pool))
    .map((v) => v.name)
    .filter((n) => n.startsWith(`${prefix}m-`) && n.endsWith('.qcow2'));
}

async function masterPath(client: LibvirtClient): Promise<{ name: string; path: string } | undefined> {
  const pool = await client.storage.poolLookupByName(POOL);
  await client.storage.poolRefresh(pool);
  const vol = (await client.storage.poolListAllVolumes(pool)).find(
    (v) => v.name.startsWith(`${prefix}m-`) && v.name.endsWith('.qcow2'),
  );
  return vol ? { name: vol.name, path: await client.storage.volGetPath(vol) } : undefined;
}

describe('libvirt provider end to end on qemu:///system', () => {
  let client: LibvirtClient;
  beforeAll(async () => {
    client = await LibvirtClient.connect(URI);
  });
  afterAll(async () => {
    await client.close();
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('clones three nodes from one lazily built master; each answers on its own port with its own hostname and user data; destroy leaves nothing', async () => {
    const events: ProgressEvent[] = [];
    await using compute: ComputeService = await service();
    expect((await compute.listImages())[0]?.status).toBe('buildable');
    // Every installer domain the daemon starts for this run's builds, as libvirt reports it.
    const installers: string[] = [];
    const stopListening = await client.onDomainLifecycle((e) => {
      if (e.event === DomainEventType.STARTED && e.domain.name.startsWith(`${prefix}install-`))
        installers.push(e.domain.name);
    });
    // Three calls at once: one master build (single flight), three nodes with their own user data.
    const groups = await Promise.all(
      [0, 1, 2].map((i) =>
        compute.createNodesInGroup(
          'e2e',
          1,
          { inboundPorts: [80], userData: `user-data-${i}` },
          { onProgress: (e) => events.push(e) },
        ),
      ),
    );
    const nodes = groups.flat();
    expect(nodes).toHaveLength(3);
    await stopListening();
    // One build for real: one installer domain started, one master volume in the pool.
    expect(installers).toHaveLength(1);
    expect(await masterVolumeNames(client)).toHaveLength(1);
    expect(events.some((e) => e.phase === 'build' && e.imageId === 'e2e-guest')).toBe(true);
    const master = await masterPath(client);
    expect(master).toBeDefined();
    const masterHash = await sha256File(master!.path);
    const ports = nodes.map((n) => n.hostPorts['tcp-80']);
    expect(new Set(ports).size).toBe(3);
    const pages = await Promise.all(
      nodes.map((n) => waitForGuestPage(`http://127.0.0.1:${n.hostPorts['tcp-80']}/`)),
    );
    for (const [i, node] of nodes.entries()) {
      const { page } = pages[i]!;
      expect(page.hostname).toBe(node.name);
      expect(page.userData).toBe(`user-data-${groups.findIndex((g) => g[0]?.id === node.id)}`);
      expect(page.instanceId).toMatch(/^i-/);
      expect(node.status).toBe('running');
      expect(node.linkedClone).toBe(true);
    }
    expect(new Set(pages.map((p) => p.page.instanceId)).size).toBe(3);
    // Listing from another process's point of view: a fresh provider sees the same nodes.
    const other = libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix });
    expect((await other.listNodes()).map((n) => n.name).sort()).toEqual(nodes.map((n) => n.name).sort());
    await other.close();

    const gone = await compute.destroyNodesMatching((n) => n.group === 'e2e');
    expect(gone).toHaveLength(3);
    expect(await sha256File(master!.path)).toBe(masterHash);
    const left = await leftovers(URI, prefix, POOL);
    expect(left.domains).toEqual([]);
    expect(left.volumes.filter((v) => !v.startsWith(`${prefix}m-`))).toEqual([]);
    expect(readdirSync(leaseDir).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('a second service over the same store reuses the master; a master deleted behind its back is rebuilt', async () => {
    const before = await masterPath(client);
    expect(before).toBeDefined();
    const events: ProgressEvent[] = [];
    {
      await using compute = await service();
      const image = await compute.ensureImage('e2e-guest', { onProgress: (e) => events.push(e) });
      expect(image.status).toBe('available');
      expect(events.filter((e) => e.phase === 'build')).toEqual([]);
    }
    const pool = await client.storage.poolLookupByName(POOL);
    await client.storage.volDelete(await client.storage.volLookupByName(pool, before!.name));
    {
      await using compute = await service();
      const image = await compute.ensureImage('e2e-guest', { onProgress: (e) => events.push(e) });
      expect(image.status).toBe('available');
      expect(events.some((e) => e.phase === 'build')).toBe(true);
    }
    expect(await masterPath(client)).toBeDefined();
  });

  it('rolls back a clone that fails half-way: no domain, volume or port lease remains', async () => {
    await using compute = await service();
    const pool = await client.storage.poolLookupByName(POOL);
    // Make the config drive's volume creation fail: its name is taken.
    const blocker = await client.storage.volCreateXml(
      pool,
      `<volume><name>${prefix}faulty-config.iso</name><capacity unit='bytes'>4096</capacity><target><format type='raw'/></target></volume>`,
    );
    const events: ProgressEvent[] = [];
    const error = await compute
      .createNodesInGroup(
        'faults',
        1,
        { nodeNames: ['faulty'], inboundPorts: [80], userData: 'x' },
        { onProgress: (e) => events.push(e) },
      )
      .catch((e: unknown) => e);
    // The one node failed on the taken config drive name, not on anything else, and none was made.
    expect(error).toBeInstanceOf(RunNodesError);
    const { nodes, errors } = error as RunNodesError;
    expect(nodes).toEqual([]);
    expect(errors.map((f) => f.name)).toEqual(['faulty']);
    expect(errors[0]?.error.message).toMatch(
      new RegExp(`${prefix}faulty-config\\.iso.*already|already.*${prefix}faulty-config\\.iso`),
    );
    // Half-way: its disk had been cloned before the config drive failed ...
    const made = events.filter((e) => e.node === 'faulty').map((e) => e.message);
    expect(made).toContain('linked clone created');
    expect(made).not.toContain('domain defined');
    // ... and was rolled back with everything else: only the blocker remains.
    const left = await leftovers(URI, `${prefix}faulty`, POOL);
    expect(left.domains).toEqual([]);
    expect(left.volumes).toEqual([`${prefix}faulty-config.iso`]);
    await client.storage.volDelete(blocker);
    expect(readdirSync(leaseDir).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect(await compute.listNodes()).toEqual([]);
  });

  it('fails a master build whose installer reports failure on its console, and leaves nothing', async () => {
    const provider = libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix });
    const bad = testGuestMasterSpec('e2e-bad-install');
    const source = { ...bad.source, cmdline: 'console=ttyS0 panic=-1 vmkit.mode=install root=/dev/vdz' };
    const error = await runMasterBuild(provider, { ...bad, source }, 'bad-install').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'PROVIDER',
      message: expect.stringMatching(/installer failed: VMKIT-INSTALL-FAILED no-disk/),
    });
    const left = await leftovers(URI, `${prefix}m-bad-install`, POOL);
    expect(left).toEqual({ domains: [], volumes: [] });
    // Neither the installer domain nor its console log volume.
    expect(await leftovers(URI, `${prefix}install-bad-install`, POOL)).toEqual({ domains: [], volumes: [] });
    await provider.close();
  });
});
