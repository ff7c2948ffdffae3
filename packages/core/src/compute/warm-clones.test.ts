import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MasterSpec } from '../model/master-spec.js';
import type { GuestAgent, GuestSpawnRequest } from '../spi/guest-agent.js';
import type { WarmStateRef } from '../spi/warm-clones.js';
import { type MemoryProvider, memoryProvider } from '../testing/memory-provider.js';
import { debianSpec, outcome, type Scratch, scratch } from './service.fixture.js';
import { WARM_ZERO_MEMORY_SCRIPT } from './warm-memory.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

const warmSpec = (extra: Partial<MasterSpec> = {}): MasterSpec =>
  debianSpec('debian-12', { warm: { until: 'agent', resumeScript: 'echo resumed' }, ...extra });

/** What a fake warm provider was asked. */
interface WarmCalls {
  saved: string[];
  deleted: WarmStateRef[];
  cloned: string[];
  spawned: GuestSpawnRequest[];
}

/**
 * A memory provider that offers warm clones: a template is "saved" by removing its node, a clone
 * from a state is an ordinary clone, started; `unusable` states make the clone boot cold.
 */
function warmProvider(
  unusable = new Set<string>(),
  statePath?: string,
): MemoryProvider & { warm: WarmCalls } {
  const warm: WarmCalls = { saved: [], deleted: [], cloned: [], spawned: [] };
  const agent = (): GuestAgent => ({
    maxChunkBytes: 1024,
    ping: async () => {},
    spawn: async (request) => {
      warm.spawned.push(request);
      return 1;
    },
    processStatus: async () => ({ exited: true, exitCode: 0 }),
    openFile: async () => 1,
    readFile: async () => ({ data: new Uint8Array(), eof: true }),
    writeFile: async () => {},
    closeFile: async () => {},
    networkInterfaces: async () => [],
  });
  const p = memoryProvider({ guestAgent: agent, ...(statePath ? { statePath } : {}) });
  const caps = p.capabilities.bind(p);
  let generation = 0;
  return Object.assign(p, {
    warm,
    capabilities: async () => ({ ...(await caps()), warmClones: true }),
    saveWarmState: async (nodeId: string) => {
      warm.saved.push(nodeId);
      await p.destroyNode(nodeId);
      return { ref: { id: `state-${++generation}` }, stateBytes: 100 };
    },
    cloneNodeFromState: async (spec: Parameters<MemoryProvider['cloneNode']>[0], state: WarmStateRef) => {
      warm.cloned.push(state.id);
      const node = await p.cloneNode(spec);
      await p.startNode(node.id);
      const resumed = !unusable.has(state.id);
      return {
        node: { ...node, status: 'running' as const },
        resumed,
        ...(resumed ? {} : { reason: `state ${state.id} is corrupt` }),
      };
    },
    deleteWarmState: async (state: WarmStateRef) => {
      warm.deleted.push(state);
    },
  });
}

describe('warm clones in core', () => {
  it('refuses warm: true early where the provider cannot (UNSUPPORTED naming warm), making nothing', async () => {
    const p = memoryProvider();
    const service = await s.service(p, { images: [warmSpec()] });
    expect(await outcome(service.createNodesInGroup('g', 1, {}, { warm: true }))).toMatch(
      /^UNSUPPORTED warm: warm: memory cannot resume/,
    );
    expect(p.stats.builds).toBe(0);
    expect(p.stats.clones).toBe(0);
  });

  it('refuses warm for an image without warm, a bridged NIC (naming it), data volumes, other hardware', async () => {
    const p = warmProvider();
    const service = await s.service(p, { images: [warmSpec(), debianSpec('plain')] });
    const plain = await service.templateBuilder().imageId('plain').build();
    expect(await outcome(service.createNodesInGroup('g', 1, plain, { warm: true }))).toMatch(
      /^INVALID_ARGUMENT warm: .*image plain has none/,
    );
    const bridged = { network: { nics: [{ attachment: 'bridged' as const, hostInterface: 'br0' }] } };
    expect(await outcome(service.createNodesInGroup('g', 1, bridged, { warm: true }))).toMatch(
      /^INVALID_ARGUMENT network\.nics\[0\]\.attachment: .*must be nat/,
    );
    const volumes = { dataVolumes: [{ sizeMiB: 8 }] };
    expect(await outcome(service.createNodesInGroup('g', 1, volumes, { warm: true }))).toMatch(
      /^INVALID_ARGUMENT dataVolumes/,
    );
    expect(p.stats.builds).toBe(0);
    expect(p.warm.saved).toEqual([]);
    await service.createNodesInGroup('g', 1, {}, { warm: true });
    expect(
      await outcome(service.createNodesInGroup('g', 1, { hardware: { ramMiB: 512 } }, { warm: true })),
    ).toMatch(/^INVALID_ARGUMENT hardware: hardware: must be the warm template's \(1 cores, 256 MiB\)/);
  });

  it('refuses a bad warm spec, naming the field', async () => {
    const bad = warmSpec({ warm: { until: { http: 'no-slash' } } });
    expect(await outcome(s.service(warmProvider(), { images: [bad] }))).toMatch(
      /INVALID_ARGUMENT.*warm\.until/,
    );
    const memory = warmSpec({ warm: { until: 'agent', memory: 'drop' as 'keep' } });
    expect(await outcome(s.service(warmProvider(), { images: [memory] }))).toMatch(/warm\.memory/);
    // 'ssh' is a readiness of its own (a port through NAT forwarding accepts before the guest boots).
    const ssh = warmSpec({ warm: { until: 'ssh' } });
    expect(await outcome(s.service(warmProvider(), { images: [ssh] }))).toBe('ok');
  });

  it('saves the template once for concurrent calls, keeps the state in the catalogue across restarts, resets each identity', async () => {
    const statePath = join(s.dir, 'hypervisor.json');
    const p = warmProvider(new Set(), statePath);
    const service = await s.service(p, { images: [warmSpec()] });
    const groups = await Promise.all(
      [1, 2, 3].map(() => service.createNodesInGroup('g', 1, {}, { warm: true })),
    );
    expect(p.warm.saved).toHaveLength(1);
    expect(p.warm.cloned).toEqual(['state-1', 'state-1', 'state-1']);
    for (const node of groups.flat()) expect(node.warm).toEqual({ resumed: true });
    // The template is gone; every clone's identity was reset with the spec's resume script.
    expect((await service.listNodes()).map((n) => n.group)).toEqual(['g', 'g', 'g']);
    // The template's free memory was zeroed once, before its save; then each clone's reset ran.
    expect(p.warm.spawned.map((r) => r.args[1] === WARM_ZERO_MEMORY_SCRIPT)).toEqual([
      true,
      false,
      false,
      false,
    ]);
    // The clone's own drive key (its group's) replaces the template's (group vmkit-warm), for the
    // login user: cloud-init does not run again on resume.
    const env = Object.fromEntries(
      (p.warm.spawned[1]?.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    );
    expect(env.VMKIT_RESUME).toBe('echo resumed');
    expect(env.VMKIT_SSH_USER).toBe('root');
    expect(env.VMKIT_SSH_KEYS).toMatch(/^ssh-ed25519 \S+ vmkit-g$/);
    expect(env.VMKIT_SSH_DROP_KEYS).toMatch(/^ssh-ed25519 \S+ vmkit-vmkit-warm$/);
    // The clone's identity as its drive holds it, given so that the guest need not mount the drive.
    expect(env.VMKIT_IDENTITY).toBe('1');
    expect(env.VMKIT_IDENTITY_INSTANCE).toMatch(/^i-[0-9a-f]{16}$/);
    expect(groups.flat().map((n) => n.name)).toContain(env.VMKIT_IDENTITY_HOSTNAME);
    await service.close();
    // Another process on the same hypervisor and store: the state is in the master's record.
    const next = warmProvider(new Set(), statePath);
    const again = await s.service(next, { images: [warmSpec()] });
    await again.createNodesInGroup('g', 1, {}, { warm: true });
    expect(next.warm.saved).toEqual([]);
    expect(next.warm.cloned).toEqual(['state-1']);
    // Cold nodes of a warm image stay cold.
    const [cold] = await again.createNodesInGroup('g', 1, {});
    expect(cold?.warm).toBeUndefined();
    expect(next.warm.cloned).toHaveLength(1);
  });

  it('a state that cannot be used: the node boots cold and says so, the state is saved again once and the stale one deleted', async () => {
    const p = warmProvider(new Set(['state-1']));
    const service = await s.service(p, { images: [warmSpec()] });
    expect((await service.listImages())[0]?.warm).toEqual({});
    const messages: string[] = [];
    const [cold] = await service.createNodesInGroup(
      'g',
      1,
      {},
      {
        warm: true,
        onProgress: (e) => messages.push(e.message),
      },
    );
    expect(cold?.warm).toEqual({ resumed: false, reason: 'state state-1 is corrupt' });
    expect(messages.some((m) => /booted cold: state state-1 is corrupt/.test(m))).toBe(true);
    expect((await service.listImages())[0]?.warm).toMatchObject({ stale: true });
    const [warm] = await service.createNodesInGroup('g', 1, {}, { warm: true });
    expect(warm?.warm).toEqual({ resumed: true });
    expect(p.warm.saved).toHaveLength(2);
    expect(p.warm.deleted.map((r) => r.id)).toEqual(['state-1']);
    const image = (await service.listImages())[0];
    expect(image?.warm?.stale).toBeUndefined();
    expect(image?.warm?.savedAt).toMatch(/^\d{4}-/);
  });
});
