import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAll } from '../blobstore/blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { type MemoryProvider, memoryProvider } from '../testing/memory-provider.js';
import { sleep } from '../util/abort.js';
import type { ComputeService } from './compute-service.js';
import { type Scratch, scratch } from './service.fixture.js';

const OWNERS = 'vmkit-images-owners';
const lease = { ttlMs: 1000, renewMs: 200 };

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

/** 2 ephemeral nodes (each with a host port) and 1 ordinary one. */
async function mixed(service: ComputeService) {
  const ephemeral = await service.createNodesInGroup('eph', 2, { ephemeral: true, inboundPorts: [80] });
  const [ordinary] = await service.createNodesInGroup('keep', 1, { inboundPorts: [80] });
  return { ephemeral, ordinary: ordinary! };
}
/** A handle on the fake hypervisor every service of a test shares (each service closes its own). */
const provider = (): MemoryProvider => memoryProvider({ statePath: join(s.dir, 'hypervisor.json') });
/** The names of the nodes on the hypervisor, read through a handle of their own. */
const names = async () => {
  const view = provider();
  await view.init?.();
  return (await view.listNodes()).map((n) => n.name).sort();
};
const portLeases = async () => (await readdir(s.leaseDir)).filter((f) => f.endsWith('.lease')).length;
const ownerBlobs = async () => {
  const found: Array<{ name: string; text: string }> = [];
  for await (const item of listAll(s.store, OWNERS)) {
    found.push({ name: item.name, text: await (await s.store.getBlob(OWNERS, item.name))!.text() });
  }
  return found;
};
/** The newest generation of the one owner lease in the store. */
const newestOwnerLease = async () => {
  const blobs = (await ownerBlobs()).sort((a, b) => (a.name < b.name ? -1 : 1));
  return JSON.parse(blobs.at(-1)!.text) as { generation: number; expiresAt: string };
};

describe('ephemeral nodes', () => {
  it('are marked with their owner; a service started after the owner closed reaps them and their port leases, never the ordinary node', async () => {
    const owner = await s.service(provider(), { ephemeralNodes: { lease } });
    const { ephemeral, ordinary } = await mixed(owner);
    expect(ephemeral.every((n) => n.tags.some((t) => /^vmkit:owner=[0-9a-f]{16}$/.test(t)))).toBe(true);
    expect(ordinary.tags).toEqual([]);
    expect(await ownerBlobs()).toHaveLength(1);
    await owner.close();
    expect(await names()).toHaveLength(3); // no destroyOnClose: left for the reaper
    await s.service(provider());
    expect(await names()).toEqual([ordinary.name]);
    expect(await portLeases()).toBe(1);
  });

  it('a crashed owner (its lease blob left behind, lapsed) is reaped on start', async () => {
    const owner = await s.service(provider(), { ephemeralNodes: { lease } });
    const { ordinary } = await mixed(owner);
    const [blob] = await ownerBlobs();
    await owner.close();
    // What a SIGKILLed owner leaves: its last lease generation, lapsed.
    const record = JSON.parse(blob!.text) as Record<string, unknown>;
    await s.store.putBlob(
      OWNERS,
      blob!.name,
      JSON.stringify({ ...record, expiresAt: new Date(Date.now() - 1).toISOString() }),
    );
    await s.service(provider());
    expect(await names()).toEqual([ordinary.name]);
    expect(await ownerBlobs()).toEqual([]); // the dead owner's lease is removed too
  });

  it('a live owner keeps its nodes: other services start, reap and prune after its TTL and touch nothing', async () => {
    const owner = await s.service(provider(), { ephemeralNodes: { lease } });
    await mixed(owner);
    const first = await newestOwnerLease();
    // Past the expiry of its lease as first seen: only the owner's renewals keep it live now.
    while (
      Date.now() <= Date.parse(first.expiresAt) ||
      (await newestOwnerLease()).generation <= first.generation
    )
      await sleep(20);
    const other = await s.service(provider());
    expect(await other.reapNodes()).toEqual({ dryRun: false, removed: [], failed: [] });
    const pruned = await other.pruneImages();
    expect(pruned.removed).toEqual([]);
    expect(await names()).toHaveLength(3);
    expect(await portLeases()).toBe(3);
    // Its own reaper never takes its own nodes for dead either.
    expect((await owner.reapNodes()).removed).toEqual([]);
  });

  it('reapNodes reports in a dry run, then removes the dead owner nodes with their port leases', async () => {
    const reaper = await s.service(provider());
    const owner = await s.service(provider(), { ephemeralNodes: { lease } });
    const { ephemeral, ordinary } = await mixed(owner);
    await owner.close();
    const dry = await reaper.reapNodes({ dryRun: true });
    expect(dry.removed.map((n) => n.name).sort()).toEqual(ephemeral.map((n) => n.name).sort());
    expect(await names()).toHaveLength(3);
    const events: string[] = [];
    const done = await reaper.reapNodes({ onProgress: (e) => events.push(e.message) });
    expect(done.removed.map((n) => n.name).sort()).toEqual(ephemeral.map((n) => n.name).sort());
    expect(events).toHaveLength(2);
    expect(await names()).toEqual([ordinary.name]);
    expect(await portLeases()).toBe(1);
  });

  it('pruneImages reaps first, so the master only ephemeral nodes used goes too', async () => {
    const owner = await s.service(provider(), { ephemeralNodes: { lease } });
    await owner.ensureImage('debian-12');
    const reaper = await s.service(provider()); // knows the master's record
    const nodes = await owner.createNodesInGroup('eph', 2, { ephemeral: true });
    await owner.close();
    const result = await reaper.pruneImages();
    const nodeItems = result.removed.filter((r) => r.kind === 'node');
    expect(nodeItems.map((r) => r.id).sort()).toEqual(nodes.map((n) => n.name).sort());
    expect(result.removed.filter((r) => r.kind === 'image').map((r) => r.id)).toEqual(['debian-12']);
    expect(await names()).toEqual([]);
    expect(provider().masterNames()).toEqual([]);
  });

  it('destroyOnClose removes the owner nodes at once in close(), with its lease; the ordinary node stays', async () => {
    const owner = await s.service(provider(), { ephemeralNodes: { lease, destroyOnClose: true } });
    const { ordinary } = await mixed(owner);
    await owner.close();
    expect(await names()).toEqual([ordinary.name]);
    expect(await portLeases()).toBe(1);
    expect(await ownerBlobs()).toEqual([]);
  });

  it('an owner lease record in the store naming an ordinary node does nothing; a user tag cannot forge the mark', async () => {
    const service = await s.service(provider());
    const [ordinary] = await service.createNodesInGroup('keep', 1);
    const lapsed = new Date(Date.now() - 60_000).toISOString();
    for (const id of [ordinary!.id, ordinary!.name, '0123456789abcdef']) {
      await s.store.putBlob(
        OWNERS,
        `owners/${id}/000000000001.json`,
        JSON.stringify({
          schemaVersion: 1,
          imageId: id,
          specHash: 'ephemeral-nodes',
          masterName: ordinary!.name,
          holder: { hostname: 'h', pid: 1, id: 'x' },
          generation: 1,
          expiresAt: lapsed,
        }),
      );
    }
    expect((await service.reapNodes()).removed).toEqual([]);
    await s.service(provider());
    expect(await names()).toEqual([ordinary!.name]);
    const forged = service.createNodesInGroup('x', 1, { tags: ['vmkit:owner=0123456789abcdef'] });
    await expect(forged).rejects.toThrow(/tags\[0\].*vmkit:/);
  });

  it('validates ephemeral and ephemeralNodes, naming the field', async () => {
    const service = await s.service(provider());
    const bad = service.createNodesInGroup('x', 1, { ephemeral: 'yes' as unknown as boolean });
    await expect(bad).rejects.toSatisfy(
      (e) => VmkitError.is(e, 'INVALID_ARGUMENT') && /ephemeral/.test(e.message),
    );
    await expect(
      s.service(provider(), { ephemeralNodes: { destroyOnClose: 1 as unknown as boolean } }),
    ).rejects.toThrow(/ephemeralNodes\.destroyOnClose/);
    await expect(s.service(provider(), { ephemeralNodes: { lease: { ttlMs: 5 } } })).rejects.toThrow(
      /ephemeralNodes\.lease\.ttlMs/,
    );
  });
});
