import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isClosedError, VmkitError } from '../errors/vmkit-error.js';
import { memoryProvider } from '../testing/memory-provider.js';
import type { ProgressEvent } from '../util/progress.js';
import { createComputeService } from './create-compute-service.js';
import { debianSpec, provider, type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

const aborted = () => AbortSignal.abort(new Error('caller gave up'));
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (VmkitError.is(e) ? e.code : String(e)),
  );

describe('node operations with a signal', () => {
  it('ends a graceful stop of a node that ignores it promptly with ABORTED, the node left running', async () => {
    // A grace of ten minutes: a stop that returns at all (within the test's timeout) was ended by the abort.
    const p = provider({ ignoreStop: /^web-/, stopGraceMs: 600_000 });
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    const id = node?.id as string;
    const caller = new AbortController();
    setTimeout(() => caller.abort(new Error('enough')), 50);
    expect(await codeOf(service.stopNode(id, { signal: caller.signal }))).toBe('ABORTED');
    expect((await service.getNode(id))?.status).toBe('running');
    // Without a signal the same stop waits out the grace period, then powers off.
    p.faults.stopGraceMs = 30;
    await service.stopNode(id);
    expect((await service.getNode(id))?.status).toBe('stopped');
  });

  it('refuses every power operation with ABORTED and changes nothing when the signal has fired', async () => {
    const service = await s.service(provider());
    const [node] = await service.createNodesInGroup('web', 1);
    const id = node?.id as string;
    for (const op of [service.stopNode, service.rebootNode, service.suspendNode, service.startNode]) {
      expect(await codeOf(op.call(service, id, { signal: aborted() }))).toBe('ABORTED');
      expect((await service.getNode(id))?.status).toBe('running');
    }
    await service.suspendNode(id);
    expect(await codeOf(service.resumeNode(id, { signal: aborted() }))).toBe('ABORTED');
    expect((await service.getNode(id))?.status).toBe('suspended');
    await service.resumeNode(id, { signal: new AbortController().signal });
    expect((await service.getNode(id))?.status).toBe('running');
  });
});

describe('destroy progress and abort', () => {
  it('destroyNode reports destroy events from start to gone, and removes the node and its disk', async () => {
    const p = provider();
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    const events: ProgressEvent[] = [];
    await service.destroyNode(node?.id as string, { onProgress: (e) => events.push(e) });
    expect(events.map((e) => [e.phase, e.node, e.fraction])).toEqual([
      ['destroy', node?.name, 0],
      ['destroy', node?.name, 1],
      ['destroy', node?.name, 1],
    ]);
    expect(events[1]?.message).toMatch(/1 disk/);
    expect(await service.listNodes()).toEqual([]);
    expect(p.diskNames().filter((d) => d.startsWith('node:'))).toEqual([]);
  });

  it('destroyNode with a fired signal fails with ABORTED and removes nothing', async () => {
    const p = provider();
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    expect(await codeOf(service.destroyNode(node?.id as string, { signal: aborted() }))).toBe('ABORTED');
    expect(await service.listNodes()).toHaveLength(1);
    expect(p.stats.destroys).toBe(0);
  });

  it('destroyNodesMatching reports one event per node with a rising fraction', async () => {
    const service = await s.service(provider(), { concurrency: { clones: 1 } });
    await service.createNodesInGroup('web', 3);
    await service.createNodesInGroup('db', 1);
    const events: ProgressEvent[] = [];
    const gone = await service.destroyNodesMatching((n) => n.group === 'web', {
      onProgress: (e) => {
        if (e.message.includes('/')) events.push(e);
      },
    });
    expect(gone.map((n) => n.group)).toEqual(['web', 'web', 'web']);
    expect(events.map((e) => e.fraction)).toEqual([1 / 3, 2 / 3, 1]);
    expect(events.every((e) => e.phase === 'destroy')).toBe(true);
    expect((await service.listNodes()).map((n) => n.group)).toEqual(['db']);
  });

  it('destroyNodesMatching stops starting removals once aborted: ABORTED, the rest kept', async () => {
    const service = await s.service(provider(), { concurrency: { clones: 1 } });
    await service.createNodesInGroup('web', 4);
    const caller = new AbortController();
    const error = await service
      .destroyNodesMatching(() => true, {
        signal: caller.signal,
        onProgress: (e) => {
          if (e.fraction !== undefined && e.fraction > 0 && e.message.includes('/')) caller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(VmkitError.is(error, 'ABORTED')).toBe(true);
    expect(await service.listNodes()).toHaveLength(3);
  });
});

describe('start-up load progress', () => {
  it('reports load events rising to 1, with the catalogue counted', async () => {
    const events: ProgressEvent[] = [];
    const service = await createComputeService(
      {
        provider: memoryProvider(),
        store: s.store,
        images: [debianSpec()],
        ports: { leaseDir: s.leaseDir, probe: false },
      },
      { onProgress: (e) => events.push(e) },
    );
    await service.close();
    expect(events.every((e) => e.phase === 'load')).toBe(true);
    const fractions = events.map((e) => e.fraction ?? -1);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions[0]).toBe(0);
    expect(fractions.at(-1)).toBe(1);
    expect(events.some((e) => /catalogue loaded: 1 images, 0 quarantined/.test(e.message))).toBe(true);
  });

  it('stops with ABORTED when the signal fires during start-up, the provider closed again', async () => {
    const p = memoryProvider();
    const caller = new AbortController();
    const error = await createComputeService(
      { provider: p, store: s.store, images: [debianSpec()], ports: { leaseDir: s.leaseDir, probe: false } },
      {
        signal: caller.signal,
        onProgress: (e) => {
          if (e.message.includes('connected')) caller.abort();
        },
      },
    ).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'ABORTED')).toBe(true);
    const after = await p.listNodes().catch((e: unknown) => e);
    expect(isClosedError(after)).toBe(true);
  });
});
