import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunNodesError } from '../errors/run-nodes-error.js';
import { VmkitError } from '../errors/vmkit-error.js';
import type { MemoryProvider } from '../testing/memory-provider.js';
import { provider, type Scratch, scratch } from './service.fixture.js';

// A hypervisor that goes away for a moment: provider calls fail with retryable errors, as the
// libvirt provider's do when libvirtd restarts under them.

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

const lost = () =>
  new VmkitError('PROVIDER', 'connection to the hypervisor lost', { retryable: true, fault: 'environment' });

/** Makes `p.<method>` fail with `error()` for the calls `when` picks (1-based call count); `after` runs the real call first. */
function flaky(
  p: MemoryProvider,
  method: 'startNode' | 'destroyNode' | 'cloneNode',
  when: (call: number) => boolean,
  options: { after?: boolean; error?: () => VmkitError } = {},
): { calls: () => number } {
  const real = (p[method] as (...a: unknown[]) => Promise<unknown>).bind(p);
  let calls = 0;
  (p as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    calls++;
    if (!when(calls)) return real(...args);
    if (options.after) await real(...args);
    throw (options.error ?? lost)();
  };
  return { calls: () => calls };
}

describe('createNodesInGroup while the hypervisor goes away', () => {
  it('repeats a start whose answer was lost: the node runs and is returned as created', async () => {
    const p = provider();
    const start = flaky(p, 'startNode', (n) => n === 1, { after: true });
    const service = await s.service(p);
    const nodes = await service.createNodesInGroup('web', 2);
    expect(nodes.map((n) => n.status)).toEqual(['running', 'running']);
    expect(start.calls()).toBe(3);
    expect((await service.listNodes()).length).toBe(2);
  });

  it('makes a node again when its clone failed with a retryable error', async () => {
    const p = provider();
    flaky(p, 'cloneNode', (n) => n === 1);
    const service = await s.service(p);
    const nodes = await service.createNodesInGroup('web', 1);
    expect(nodes).toHaveLength(1);
    expect((await service.listNodes()).map((n) => n.id)).toEqual([nodes[0]?.id]);
  });

  it('repeats a rollback that could not reach the hypervisor: the failed node is gone', async () => {
    const p = provider({ failStart: /./ });
    const destroy = flaky(p, 'destroyNode', (n) => n <= 2);
    const service = await s.service(p);
    const error = await service.createNodesInGroup('web', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunNodesError);
    expect((error as RunNodesError).stranded).toEqual([]);
    expect(destroy.calls()).toBe(3);
    expect(await service.listNodes()).toEqual([]);
  });

  it('reports a node whose rollback was given up as existing, never as simply failed', async () => {
    const p = provider({ failStart: /./ });
    flaky(p, 'destroyNode', () => true);
    const service = await s.service(p);
    const error = (await service.createNodesInGroup('web', 1).catch((e: unknown) => e)) as RunNodesError;
    expect(error).toBeInstanceOf(RunNodesError);
    const [left] = await service.listNodes();
    expect(left).toBeDefined();
    expect(error.stranded.map((n) => n.id)).toEqual([left?.id]);
    expect(error.errors[0]?.node?.id).toBe(left?.id);
    expect(error.message).toMatch(new RegExp(`1 could not be rolled back and still exist: ${left?.name}`));
  });
});

describe('destroyNodesMatching while the hypervisor goes away', () => {
  it('repeats removals that failed with a retryable error: every node is gone', async () => {
    const p = provider();
    const service = await s.service(p);
    await service.createNodesInGroup('web', 3);
    flaky(p, 'destroyNode', (n) => n <= 3);
    expect(await service.destroyNodesMatching(() => true)).toHaveLength(3);
    expect(await service.listNodes()).toEqual([]);
  });

  it('names the nodes left and those destroyed when some cannot be removed', async () => {
    const p = provider();
    const service = await s.service(p);
    const nodes = await service.createNodesInGroup('web', 2);
    const doomed = nodes[0]?.id;
    const real = p.destroyNode.bind(p);
    p.destroyNode = async (id, o) => {
      if (id === doomed) throw lost();
      return real(id, o);
    };
    const error = await service.destroyNodesMatching(() => true).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'PROVIDER',
      retryable: true,
      message: expect.stringMatching(
        new RegExp(`1 of 2 nodes could not be destroyed and may still exist: ${nodes[0]?.name}`),
      ),
      details: { remaining: [doomed], destroyed: [nodes[1]?.id] },
    });
    expect((await service.listNodes()).map((n) => n.id)).toEqual([doomed]);
  });
});
