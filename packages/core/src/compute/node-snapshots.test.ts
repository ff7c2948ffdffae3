import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SnapshotCapabilities } from '../spi/node-snapshots.js';
import type { ProgressEvent } from '../util/progress.js';
import { failure, provider, type Scratch, scratch, withCapability } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

/** A memory provider that says it can do only what `snapshots` says (and counts snapshot calls). */
const limited = (snapshots: SnapshotCapabilities | undefined) =>
  withCapability('snapshots', snapshots, 'snapshotNode');

const LIBVIRT_LIKE: SnapshotCapabilities = {
  stopped: true,
  runningWithMemory: true,
  runningDiskOnly: false,
  revertRunning: true,
  dataVolumes: false,
};

describe('node snapshots', () => {
  it('takes, lists, reverts and deletes snapshots, with progress, and destroy removes them', async () => {
    const p = provider();
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    const id = node?.id as string;
    const events: ProgressEvent[] = [];
    const live = await service.snapshotNode(id, 'before-upgrade', {
      memory: true,
      description: 'all good',
      onProgress: (e) => events.push(e),
    });
    expect(live).toMatchObject({
      name: 'before-upgrade',
      memory: true,
      description: 'all good',
      current: true,
    });
    expect(events.map((e) => [e.phase, e.fraction])).toEqual([
      ['snapshot', 0],
      ['snapshot', 1],
    ]);
    await service.stopNode(id);
    await service.snapshotNode(id, 'cold_1.0');
    expect((await service.listNodeSnapshots(id)).map((x) => [x.name, x.memory, x.current, x.parent])).toEqual(
      [
        ['before-upgrade', true, false, undefined],
        ['cold_1.0', false, true, 'before-upgrade'],
      ],
    );
    await service.revertNode(id, 'before-upgrade');
    expect((await service.getNode(id))?.status).toBe('running');
    await service.revertNode(id, 'cold_1.0');
    expect((await service.getNode(id))?.status).toBe('stopped');
    await service.deleteNodeSnapshot(id, 'before-upgrade');
    const [left, ...more] = await service.listNodeSnapshots(id);
    expect(more).toEqual([]);
    expect(left).toMatchObject({ name: 'cold_1.0', current: true });
    expect(left).not.toHaveProperty('parent');
    await service.destroyNode(id);
    // A new node under the same id would start without them; the fake's state has none left.
    expect(await failure(service.listNodeSnapshots(id))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a bad name, description or memory option naming the field, taking nothing', async () => {
    const service = await s.service(provider());
    const [node] = await service.createNodesInGroup('web', 1);
    const id = node?.id as string;
    for (const name of [
      '',
      '../etc',
      'a b',
      '-x',
      '.hidden',
      '123',
      'x'.repeat(65),
      'semi;colon',
      'quote"',
    ]) {
      const e = await failure(service.snapshotNode(id, name, { memory: true }));
      expect(e, name).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'name' } });
      expect(e?.message).toMatch(/^name: must be 1-64 letters, digits/);
    }
    expect(
      await failure(service.snapshotNode(id, 'ok', { memory: true, description: 'x'.repeat(1001) })),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'description' } });
    expect(
      await failure(service.snapshotNode(id, 'ok', { memory: 'yes' as unknown as boolean })),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'memory' } });
    for (const bad of [service.revertNode(id, '../x'), service.deleteNodeSnapshot(id, '')])
      expect(await failure(bad)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'name' } });
    expect(await service.listNodeSnapshots(id)).toEqual([]);
  });

  it('refuses unknown nodes and snapshots with NOT_FOUND and a taken name with CONFLICT', async () => {
    const service = await s.service(provider());
    const [node] = await service.createNodesInGroup('web', 1);
    const id = node?.id as string;
    for (const call of [
      service.snapshotNode('mem-nope', 'a', { memory: true }),
      service.listNodeSnapshots('mem-nope'),
      service.revertNode('mem-nope', 'a'),
      service.deleteNodeSnapshot('mem-nope', 'a'),
    ])
      expect(await failure(call)).toMatchObject({ code: 'NOT_FOUND', details: { node: 'mem-nope' } });
    await service.snapshotNode(id, 'one', { memory: true });
    const again = await failure(service.snapshotNode(id, 'one', { memory: true }));
    expect(again).toMatchObject({ code: 'CONFLICT', details: { snapshot: 'one' } });
    expect(again?.message).toContain('already has a snapshot named one');
    for (const call of [service.revertNode(id, 'two'), service.deleteNodeSnapshot(id, 'two')]) {
      const e = await failure(call);
      expect(e).toMatchObject({ code: 'NOT_FOUND', details: { snapshot: 'two' } });
      expect(e?.message).toContain('has no snapshot two (it has: one)');
    }
    expect(await service.listNodeSnapshots(id)).toHaveLength(1);
  });

  it('refuses early, with the reason, what the capabilities say the provider cannot do', async () => {
    const p = limited(LIBVIRT_LIKE);
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    const id = node?.id as string;
    const disk = await failure(service.snapshotNode(id, 'disk-only'));
    expect(disk).toMatchObject({ code: 'UNSUPPORTED', details: { field: 'memory', status: 'running' } });
    expect(disk?.message).toMatch(/only with its memory .*pass memory: true, or stop node web-\w+ first/);
    await service.suspendNode(id);
    expect(await failure(service.snapshotNode(id, 'paused', { memory: true }))).toMatchObject({
      code: 'CONFLICT',
      details: { status: 'suspended' },
    });
    await service.stopNode(id);
    const cold = await failure(service.snapshotNode(id, 'cold', { memory: true }));
    expect(cold).toMatchObject({ code: 'CONFLICT', details: { field: 'memory' } });
    expect(cold?.message).toContain('is stopped, it has no memory to save');
    expect(p.calls).toBe(0);
    await service.snapshotNode(id, 'cold');
    expect(p.calls).toBe(1);
  });

  it('refuses to revert a running node where the provider reverts stopped nodes only', async () => {
    const p = limited({ ...LIBVIRT_LIKE, runningDiskOnly: true, revertRunning: false });
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    const id = node?.id as string;
    await service.snapshotNode(id, 'one');
    const e = await failure(service.revertNode(id, 'one'));
    expect(e).toMatchObject({ code: 'CONFLICT', details: { status: 'running' } });
    expect(e?.message).toContain('reverts stopped nodes only; stop it first');
    await service.stopNode(id);
    await service.revertNode(id, 'one');
  });

  it('is UNSUPPORTED on a provider without snapshots, and ABORTED with a fired signal', async () => {
    const none = await s.service(limited(undefined));
    const [node] = await none.createNodesInGroup('web', 1);
    for (const call of [
      none.snapshotNode(node?.id as string, 'a', { memory: true }),
      none.listNodeSnapshots(node?.id as string),
    ])
      expect(await failure(call)).toMatchObject({ code: 'UNSUPPORTED' });
    const p = limited(LIBVIRT_LIKE);
    const service = await s.service(p);
    const [other] = await service.createNodesInGroup('db', 1);
    const signal = AbortSignal.abort(new Error('caller gave up'));
    const id = other?.id as string;
    expect(await failure(service.snapshotNode(id, 'a', { memory: true, signal }))).toMatchObject({
      code: 'ABORTED',
    });
    expect(p.calls).toBe(0);
    await service.snapshotNode(id, 'a', { memory: true });
    expect(await failure(service.revertNode(id, 'a', { signal }))).toMatchObject({ code: 'ABORTED' });
  });
});
