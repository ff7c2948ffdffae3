import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { MEMORY_DISK_BYTES } from '../testing/memory-housekeeping.js';
import { provider, type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

describe('diskUsage', () => {
  it('reports each master, each node and each leftover, and their sum', async () => {
    const p = provider();
    const service = await s.service(p);
    const nodes = await service.createNodesInGroup('web', 2);
    await service.createNodesInGroup('db', 1, { linkedClone: false });
    p.plantLeftover('vmkit-debian-12-0123abcd-dead', 'debian-12');
    const report = await service.diskUsage();
    expect(report.masters).toEqual([
      {
        imageId: 'debian-12',
        master: expect.any(String),
        role: 'current',
        nodes: 3,
        ...MEMORY_DISK_BYTES.master,
      },
    ]);
    expect(report.nodes).toHaveLength(3);
    const byName = new Map(report.nodes.map((n) => [n.name, n]));
    expect(byName.get(nodes[0]?.name as string)?.allocatedBytes).toBe(
      MEMORY_DISK_BYTES.linked.allocatedBytes,
    );
    expect(report.nodes.filter((n) => n.group === 'db')[0]?.allocatedBytes).toBe(
      MEMORY_DISK_BYTES.full.allocatedBytes,
    );
    expect(report.leftovers).toEqual([
      { id: 'vmkit-debian-12-0123abcd-dead', kind: 'master', inUse: false, ...MEMORY_DISK_BYTES.master },
    ]);
    const { master, linked, full } = MEMORY_DISK_BYTES;
    expect(report.total.allocatedBytes).toBe(
      2 * master.allocatedBytes + 2 * linked.allocatedBytes + full.allocatedBytes,
    );
    expect(report.total.virtualBytes).toBe(5 * master.virtualBytes);
  });

  it('is UNSUPPORTED, naming the method, for a provider that cannot measure', async () => {
    const p = provider();
    const service = await s.service({ ...p, masterDiskUsage: undefined });
    const error = await service.diskUsage().catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toMatch(/masterDiskUsage/);
  });
});
