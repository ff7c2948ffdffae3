import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunNodesError } from '../errors/run-nodes-error.js';
import { isClosedError, VmkitError } from '../errors/vmkit-error.js';
import type { ProgressEvent } from '../util/progress.js';
import { maxAbortListeners } from './abort-listener-count.fixture.js';
import { debianSpec, provider, type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

describe('createNodesInGroup', () => {
  it('builds the master exactly once for 50 concurrent calls, and all 50 succeed', async () => {
    const p = provider({ buildDelayMs: 50 });
    const service = await s.service(p);
    expect((await service.getImage('debian-12'))?.status).toBe('buildable');
    const results = await Promise.all(Array.from({ length: 50 }, () => service.createNodesInGroup('web', 1)));
    expect(p.stats.builds).toBe(1);
    expect(results.flat()).toHaveLength(50);
    expect(new Set(results.flat().map((n) => n.name)).size).toBe(50);
    expect(results.flat().every((n) => n.status === 'running' && n.group === 'web')).toBe(true);
    expect((await service.getImage('debian-12'))?.status).toBe('available');
  });

  it.each([
    ['one signal of the caller', true],
    ['no signal of the caller', false],
  ])(
    'prints no MaxListenersExceededWarning for 50 calls sharing one service and %s',
    async (_, withSignal) => {
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
      process.on('warning', onWarning);
      try {
        const service = await s.service(provider({ buildDelayMs: 50 }));
        const caller = new AbortController();
        const options = withSignal ? { signal: caller.signal } : {};
        await Promise.all(
          Array.from({ length: 50 }, () => service.createNodesInGroup('web', 1, {}, options)),
        );
        await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      } finally {
        process.off('warning', onWarning);
      }
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    },
  );

  it.each([
    ['one signal of the caller', true],
    ['no signal of the caller', false],
  ])(
    'keeps at most a few abort listeners on any one signal for 50 calls sharing %s',
    async (_, withSignal) => {
      const service = await s.service(provider({ buildDelayMs: 50 }));
      const caller = new AbortController();
      const options = withSignal ? { signal: caller.signal } : {};
      const most = await maxAbortListeners(() =>
        Promise.all(Array.from({ length: 50 }, () => service.createNodesInGroup('web', 1, {}, options))),
      );
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThan(10);
    },
  );

  it('rolls back the failed node when clone 3 of 5 fails: RunNodesError with 4 nodes and 1 error', async () => {
    const p = provider({ failClone: 3 });
    const service = await s.service(p, { concurrency: { clones: 1 } });
    const error = await service.createNodesInGroup('db', 5, { inboundPorts: [22] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RunNodesError);
    const run = error as RunNodesError;
    expect(run.nodes).toHaveLength(4);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]?.error.message).toMatch(/injected fault in clone 3/);
    expect(VmkitError.is(run, 'PROVIDER')).toBe(true);
    const failedName = run.errors[0]?.name as string;
    const nodes = await service.listNodes();
    expect(nodes).toHaveLength(4);
    expect(nodes.some((n) => n.name === failedName)).toBe(false);
    // Nothing of the failed node remains: no disk, no port lease.
    expect(p.diskNames().filter((d) => d.startsWith('node:'))).toHaveLength(4);
    const { PortAllocator } = await import('../ports/port-allocator.js');
    const leases = await new PortAllocator({ leaseDir: s.leaseDir }).leases();
    expect(leases).toHaveLength(4);
    expect(leases.every((l) => l.state === 'bound' && !l.owner.endsWith(`/${failedName}`))).toBe(true);
  });

  it('stops an aborted build, removes its partial master, and the next call builds again', async () => {
    const p = provider({ buildDelayMs: 2_000 });
    const service = await s.service(p);
    const controller = new AbortController();
    const events: ProgressEvent[] = [];
    const call = service.createNodesInGroup('app', 2, undefined, {
      signal: controller.signal,
      onProgress: (e) => {
        events.push(e);
        if (e.step === 'create-and-install' && (e.fraction ?? 0) > 0.01) controller.abort();
      },
    });
    await expect(call).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
    await expect.poll(() => p.masterNames()).toEqual([]);
    expect(p.diskNames()).toEqual([]);
    // The build lease is released after the rollback, then the flight ends.
    await expect.poll(async () => (await service.getImage('debian-12'))?.status).toBe('buildable');
    p.faults.buildDelayMs = 0;
    const nodes = await service.createNodesInGroup('app', 2);
    expect(nodes).toHaveLength(2);
    expect(p.stats.builds).toBe(2);
    expect(p.masterNames()).toHaveLength(1);
  });

  it('keeps building for the callers that still wait when one caller aborts', async () => {
    const p = provider({ buildDelayMs: 200 });
    const service = await s.service(p);
    const quitter = new AbortController();
    const first = service.ensureImage('debian-12', { signal: quitter.signal });
    const second = service.ensureImage('debian-12');
    quitter.abort();
    await expect(first).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
    expect((await second).status).toBe('available');
    expect(p.stats.builds).toBe(1);
  });

  it('does not poison the cache with a failed build', async () => {
    const p = provider({ failStep: 'post-install' });
    const service = await s.service(p);
    await expect(service.ensureImage('debian-12')).rejects.toThrow(/post-install/);
    const image = await service.getImage('debian-12');
    expect(image?.status).toBe('broken');
    expect(image?.statusDetail).toMatch(/post-install/);
    expect(p.masterNames()).toEqual([]);
    p.faults.failStep = undefined;
    expect((await service.ensureImage('debian-12')).status).toBe('available');
  });

  it('reports host ports that were leased, distinct across nodes, and progress', async () => {
    const service = await s.service(provider());
    const events: ProgressEvent[] = [];
    const nodes = await service.createNodesInGroup(
      'web',
      3,
      { inboundPorts: [80, 443] },
      { onProgress: (e) => events.push(e) },
    );
    const ports = nodes.flatMap((n) => [n.hostPorts['tcp-80'], n.hostPorts['tcp-443']]);
    expect(ports.every((p) => typeof p === 'number' && p >= 20000 && p <= 29999)).toBe(true);
    expect(new Set(ports).size).toBe(6);
    expect(events.filter((e) => e.phase === 'build').length).toBeGreaterThan(0);
    expect(events.filter((e) => e.phase === 'start')).toHaveLength(3);
    expect(nodes[0]?.network.nics[0]?.portForwards.map((f) => f.guestPort)).toEqual([80, 443]);
  });

  it('gives each node a config drive with its own instance id and hostname when user data is set', async () => {
    const p = provider();
    const seen: unknown[] = [];
    const clone = p.cloneNode.bind(p);
    p.cloneNode = async (spec, opts) => {
      seen.push(spec.configDrive);
      return clone(spec, opts);
    };
    const service = await s.service(p);
    const nodes = await service.createNodesInGroup('cfg', 2, {
      userData: '#cloud-config\n',
      authorizePublicKey: 'ssh-ed25519 AAAA me',
    });
    const drives = seen as Array<{
      instanceId: string;
      hostname: string;
      userData: string;
      publicKeys: string[];
    }>;
    expect(drives.map((d) => d.hostname).sort()).toEqual(nodes.map((n) => n.name).sort());
    expect(new Set(drives.map((d) => d.instanceId)).size).toBe(2);
    expect(
      drives.every((d) => d.userData === '#cloud-config\n' && d.publicKeys[0] === 'ssh-ed25519 AAAA me'),
    ).toBe(true);
  });

  it('uses given node names, then group-xxxx names, and refuses a taken name', async () => {
    const service = await s.service(provider());
    const nodes = await service.createNodesInGroup('named', 3, { nodeNames: ['alpha', 'beta'] });
    expect(nodes.map((n) => n.name).slice(0, 2)).toEqual(['alpha', 'beta']);
    expect(nodes[2]?.name).toMatch(/^named-[0-9a-f]{4}$/);
    await expect(service.createNodesInGroup('named', 1, { nodeNames: ['alpha'] })).rejects.toSatisfy((e) =>
      VmkitError.is(e, 'CONFLICT'),
    );
  });

  it('rejects bad input naming the field and rule, before any work', async () => {
    const p = provider();
    const service = await s.service(p);
    const bad = async (fn: () => Promise<unknown>, field: RegExp) => {
      const error = await fn().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toMatch(field);
    };
    await bad(() => service.createNodesInGroup('Bad_Group', 1), /^group: /);
    await bad(() => service.createNodesInGroup('g', 0), /^count: /);
    await bad(() => service.createNodesInGroup('g', 1.5), /^count: /);
    await bad(
      () => service.createNodesInGroup('g', 1, { inboundPorts: [70000] }),
      /^options\.inboundPorts\[0\]: /,
    );
    await bad(
      () => service.createNodesInGroup('g', 1, { network: { nics: [{ attachment: 'bridged' }] } }),
      /^options\.network\.nics\[0\]\.hostInterface: is required/,
    );
    await bad(
      () =>
        service.createNodesInGroup('g', 1, {
          network: {
            nics: [
              { attachment: 'internal', network: 'x', portForwards: [{ protocol: 'tcp', guestPort: 1 }] },
            ],
          },
        }),
      /portForwards: only NAT NICs/,
    );
    await bad(
      () => service.createNodesInGroup('g', 1, { nodeNames: ['../etc'] }),
      /^options\.nodeNames\[0\]: /,
    );
    expect(p.stats.builds).toBe(0);
    expect(p.stats.clones).toBe(0);
  });

  it('destroys nodes with their leases, by id and by predicate', async () => {
    const service = await s.service(provider());
    const nodes = await service.createNodesInGroup('gone', 3, { inboundPorts: [80] });
    await service.destroyNode(nodes[0]?.id as string);
    await expect(service.destroyNode(nodes[0]?.id as string)).rejects.toSatisfy((e) =>
      VmkitError.is(e, 'NOT_FOUND'),
    );
    const destroyed = await service.destroyNodesMatching((n) => n.group === 'gone');
    expect(destroyed).toHaveLength(2);
    expect(await service.listNodes()).toEqual([]);
    const { PortAllocator } = await import('../ports/port-allocator.js');
    expect(await new PortAllocator({ leaseDir: s.leaseDir }).leases()).toEqual([]);
  });

  it('drives the node lifecycle through the service', async () => {
    const service = await s.service(provider());
    const [node] = await service.createNodesInGroup('life', 1);
    const id = node?.id as string;
    await service.suspendNode(id);
    expect((await service.getNode(id))?.status).toBe('suspended');
    await service.resumeNode(id);
    await service.rebootNode(id);
    await service.stopNode(id);
    expect((await service.getNode(id))?.status).toBe('stopped');
    await service.startNode(id);
    expect((await service.getNode(id))?.status).toBe('running');
    expect((await service.getNode(id))?.login?.user).toBe('root');
  });

  it('refuses work after close, and close is idempotent', async () => {
    const service = await s.service(provider());
    await service.close();
    await service.close();
    await expect(service.listImages()).rejects.toSatisfy((e) => VmkitError.is(e, 'CONFLICT'));
    await expect(service.listImages()).rejects.toSatisfy(isClosedError);
    await expect(service.listImages()).rejects.toThrow('the compute service is closed');
  });

  it('registers a new spec through ensureImage and builds it', async () => {
    const p = provider();
    const service = await s.service(p);
    const image = await service.ensureImage(
      debianSpec('alpine-3', { os: { family: 'alpine', version: '3.20', arch: 'x86_64' } }),
    );
    expect(image.status).toBe('available');
    expect((await service.listImages()).map((i) => i.id)).toEqual(['alpine-3', 'debian-12']);
  });
});
