import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type ComputeService, type NodeMetadata, VmkitError } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LibvirtTestCompute, libvirtTestCompute } from '../../test-support/libvirt-compute.js';
import { leftovers, sha256File } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { LibvirtClient } from '../client/libvirt-client.js';

// Snapshots of real nodes (busybox test guest, root on the node's qcow2 overlay, qemu-ga inside)
// through the public API; the guest's own view is read with runScriptOnNode, the master's bytes
// and libvirt's snapshot metadata straight from the host.

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('sn');
const SNAPSHOT_DIR = '/var/lib/libvirt/qemu/snapshot';

async function masterPath(client: LibvirtClient): Promise<string> {
  const pool = await client.storage.poolLookupByName(POOL);
  await client.storage.poolRefresh(pool);
  const vol = (await client.storage.poolListAllVolumes(pool)).find(
    (v) => v.name.startsWith(`${prefix}m-`) && v.name.endsWith('.qcow2'),
  );
  if (!vol) throw new Error('no master volume');
  return client.storage.volGetPath(vol);
}

describe('node snapshots on libvirt (qemu:///system, busybox guest)', () => {
  let made: LibvirtTestCompute | undefined;
  let compute: ComputeService;
  let client: LibvirtClient;
  let node: NodeMetadata;
  let master: string;
  let masterHash: string;
  const content = randomBytes(24).toString('hex');

  /** Runs a script in the node once its agent answers (after a revert QEMU restarts). */
  const sh = async (script: string): Promise<string> => {
    await compute.waitForNode(node.id, { until: 'agent', timeoutMs: 120_000 });
    const r = await compute.runScriptOnNode(node.id, script);
    expect(r.exitCode, r.stderr).toBe(0);
    return r.stdout.trim();
  };

  beforeAll(async () => {
    client = await LibvirtClient.connect(URI);
    made = await libvirtTestCompute(prefix, [testGuestMasterSpec('snap-guest')], { stopGraceMs: 20_000 });
    compute = made.compute;
    [node] = (await compute.createNodesInGroup('snap', 1)) as [NodeMetadata];
    master = await masterPath(client);
    masterHash = await sha256File(master);
  }, 300_000);

  afterAll(async () => {
    await made?.dispose();
    await client?.close();
  });

  it('reverts a memory snapshot: the deleted file is back and a process started before runs again, same pid', async () => {
    await sh(`echo ${content} > /root/keep.txt && sync`);
    const pid = await sh('sleep 100000 </dev/null >/dev/null 2>&1 & echo $!');
    expect(pid).toMatch(/^\d+$/);
    const allocated = async () =>
      (await compute.diskUsage()).nodes.find((n) => n.id === node.id)?.allocatedBytes ?? Number.NaN;
    const before = await allocated();
    const taken = await compute.snapshotNode(node.id, 'warm', { memory: true, description: 'with memory' });
    expect(taken).toMatchObject({ name: 'warm', memory: true, current: true, description: 'with memory' });
    expect((await compute.getNode(node.id))?.status).toBe('running');
    // The saved memory lives in the node's overlay, so diskUsage counts it (the guest has 256 MiB).
    expect(await allocated()).toBeGreaterThan(before + 8 * 1024 * 1024);
    await sh(`rm /root/keep.txt && kill ${pid} && sync`);
    // A killed orphan may stay a zombie (the guest's init does not reap): its cmdline is empty.
    const alive = `tr '\\0' ' ' </proc/${pid}/cmdline 2>/dev/null; true`;
    expect(await sh(`test -e /root/keep.txt && echo there; ${alive}`)).toBe('');

    await compute.revertNode(node.id, 'warm');
    expect((await compute.getNode(node.id))?.status).toBe('running');
    expect(await sh('cat /root/keep.txt')).toBe(content);
    expect(await sh(alive)).toBe('sleep 100000');
    expect(await sha256File(master)).toBe(masterHash);
  }, 300_000);

  it("reverts a stopped node's disk snapshot: files written after it are gone, deleted ones back", async () => {
    await compute.stopNode(node.id);
    const cold = await compute.snapshotNode(node.id, 'cold');
    expect(cold).toMatchObject({ name: 'cold', memory: false, parent: 'warm' });
    await compute.startNode(node.id);
    await sh('rm /root/keep.txt && echo later > /root/after.txt && sync');
    // libvirt powers the running node off to put its disk back; the node is left stopped.
    await compute.revertNode(node.id, 'cold');
    expect((await compute.getNode(node.id))?.status).toBe('stopped');
    await compute.startNode(node.id);
    expect(await sh('cat /root/keep.txt; test -e /root/after.txt && echo after; true')).toBe(content);
    expect((await compute.listNodeSnapshots(node.id)).map((s) => [s.name, s.memory, s.current])).toEqual([
      ['warm', true, false],
      ['cold', false, true],
    ]);
    expect(await sha256File(master)).toBe(masterHash);
  }, 300_000);

  it('refuses a running snapshot without memory and a taken name, before libvirt is asked', async () => {
    const why = await compute.snapshotNode(node.id, 'disk-only').catch((e: unknown) => e);
    expect(why).toMatchObject({ code: 'UNSUPPORTED', details: { field: 'memory' } });
    expect((why as Error).message).toMatch(/pass memory: true, or stop node/);
    await expect(compute.snapshotNode(node.id, 'warm', { memory: true })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(compute.revertNode(node.id, 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await compute.listNodeSnapshots(node.id)).map((s) => s.name)).toEqual(['warm', 'cold']);
  });

  it('refuses a node with a raw data volume, naming the volume; nothing is taken', async () => {
    const [withData] = (await compute.createNodesInGroup('snapdata', 1, {
      dataVolumes: [{ sizeMiB: 8 }],
    })) as [NodeMetadata];
    try {
      const why = await compute.snapshotNode(withData.id, 'x', { memory: true }).catch((e: unknown) => e);
      expect(VmkitError.is(why, 'UNSUPPORTED')).toBe(true);
      expect((why as Error).message).toMatch(new RegExp(`raw data volume ${withData.id}-data0\\.img`));
      const dom = await client.domains.lookupByName(withData.id);
      expect(await client.snapshots.listAll(dom)).toEqual([]);
    } finally {
      await compute.destroyNode(withData.id);
    }
  }, 300_000);

  it('deletes a snapshot, and destroying the node leaves no snapshot metadata, domain or volume', async () => {
    await compute.deleteNodeSnapshot(node.id, 'warm');
    expect((await compute.listNodeSnapshots(node.id)).map((s) => s.name)).toEqual(['cold']);
    const dom = await client.domains.lookupByName(node.id);
    expect((await client.snapshots.listAll(dom)).map((s) => s.name)).toEqual(['cold']);
    expect(existsSync(`${SNAPSHOT_DIR}/${node.id}/cold.xml`)).toBe(true);
    await compute.destroyNode(node.id);
    expect(existsSync(`${SNAPSHOT_DIR}/${node.id}`)).toBe(false);
    const left = await leftovers(URI, prefix, POOL);
    expect(left.domains).toEqual([]);
    expect(left.volumes.filter((v) => !v.startsWith(`${prefix}m-`))).toEqual([]);
    expect(await sha256File(master)).toBe(masterHash);
  }, 120_000);
});
