import { expect, it } from 'vitest';
import { snapshotNode } from '../compute/node-snapshots.js';
import { VmkitError, type VmkitErrorCode } from '../errors/vmkit-error.js';
import type { CloneSpec } from '../spi/clone-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';

/** What the snapshot checks of the provider contract read from the running suite. */
export interface SnapshotContractSubject {
  readonly provider: HypervisorProvider;
  /** The run's unique name prefix. */
  readonly run: string;
  /** A clone spec for a node of this name. */
  readonly cloneSpec: (name: string) => CloneSpec;
  /** Records a node for the suite's cleanup. */
  readonly made: string[];
  /** The hypervisor's real objects, read apart from the provider. */
  readonly listReal: () => Promise<string[]>;
}

const code = (c: VmkitErrorCode) => (e: unknown) => VmkitError.is(e, c);

/**
 * The snapshot section of the provider contract: for a provider whose capabilities list
 * `snapshots`, a node's snapshots are taken (stopped and, where supported, running with memory),
 * listed with their fields, refused twice under one name, reverted to (a memory snapshot leaves the
 * node running, a disk one stopped), deleted one by one, and removed with the node, nothing left.
 * A provider without the capability is refused by core with `UNSUPPORTED`.
 */
export function itSnapshotsNodes(get: () => SnapshotContractSubject): void {
  it('takes, lists, reverts and deletes node snapshots, and destroys them with the node', async () => {
    const { provider, run, cloneSpec, made, listReal } = get();
    const caps = (await provider.capabilities()).snapshots;
    if (!caps) {
      const node = await provider.cloneNode(cloneSpec(`${run}-snapless`));
      made.push(node.id);
      await expect(snapshotNode(provider, node.id, 'one')).rejects.toSatisfy(code('UNSUPPORTED'));
      await provider.destroyNode(node.id);
      return;
    }
    const before = await listReal();
    const node = await provider.cloneNode(cloneSpec(`${run}-snap`));
    made.push(node.id);
    const ops = provider as Required<HypervisorProvider>;
    const names = async () => (await ops.listNodeSnapshots(node.id)).map((s) => s.name);
    expect(await ops.listNodeSnapshots(node.id)).toEqual([]);
    const expected: string[] = [];
    if (caps.stopped) {
      const disk = await ops.snapshotNode(node.id, { name: 'disk-1', memory: false, description: 'stopped' });
      expect(disk).toMatchObject({ name: 'disk-1', memory: false, description: 'stopped', current: true });
      expect(Date.parse(disk.createdAt)).not.toBeNaN();
      expected.push('disk-1');
      await expect(ops.snapshotNode(node.id, { name: 'disk-1', memory: false })).rejects.toSatisfy(
        code('CONFLICT'),
      );
    }
    await provider.startNode(node.id);
    if (caps.runningWithMemory) {
      const live = await ops.snapshotNode(node.id, { name: 'live-1', memory: true });
      expect(live).toMatchObject({ name: 'live-1', memory: true, current: true });
      if (caps.stopped) expect(live.parent).toBe('disk-1');
      expected.push('live-1');
      expect((await provider.getNode(node.id))?.status).toBe('running');
    }
    expect(await names()).toEqual(expected);
    if (!caps.revertRunning) await provider.stopNode(node.id);
    if (caps.stopped) {
      await ops.revertNode(node.id, 'disk-1');
      expect((await provider.getNode(node.id))?.status).toBe('stopped');
      expect((await ops.listNodeSnapshots(node.id)).find((s) => s.current)?.name).toBe('disk-1');
    }
    if (caps.runningWithMemory) {
      if (!caps.revertRunning) await provider.stopNode(node.id);
      await ops.revertNode(node.id, 'live-1');
      expect((await provider.getNode(node.id))?.status).toBe('running');
    }
    await expect(ops.revertNode(node.id, 'never-taken')).rejects.toSatisfy(code('NOT_FOUND'));
    await expect(ops.deleteNodeSnapshot(node.id, 'never-taken')).rejects.toSatisfy(code('NOT_FOUND'));
    await expect(ops.listNodeSnapshots(`${run}-no-such-node`)).rejects.toSatisfy(code('NOT_FOUND'));
    const [first, ...rest] = expected;
    if (first) {
      await ops.deleteNodeSnapshot(node.id, first);
      expect(await names()).toEqual(rest);
    }
    await provider.destroyNode(node.id);
    expect(await provider.getNode(node.id)).toBeUndefined();
    expect(await listReal()).toEqual(before);
  });
}
