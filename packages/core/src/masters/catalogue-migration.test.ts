import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { debianSpec, type Scratch, scratch } from '../compute/service.fixture.js';
import { type MemoryProvider, memoryProvider } from '../testing/memory-provider.js';
import { providerNamespace } from './master-repository.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

const LEGACY = 'libvirt:qemu:///system';

/**
 * A memory provider standing for one host: its id names the host only once `init` ran (as the
 * libvirt provider learns its host UUID when connecting), and `previousIds` holds the URI-only id.
 */
function hostProvider(statePath: string, hostId: string | undefined): MemoryProvider {
  const inner = memoryProvider({ statePath, id: LEGACY });
  let connected = false;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'id') return connected && hostId ? `libvirt:${hostId}:qemu:///system` : LEGACY;
      if (prop === 'previousIds') return hostId ? [LEGACY] : undefined;
      if (prop === 'init')
        return async () => {
          await target.init?.();
          connected = true;
        };
      return Reflect.get(target, prop, receiver);
    },
  });
}

async function recordNames(prefixOf: string): Promise<string[]> {
  const prefix = `${providerNamespace(prefixOf)}/`;
  const { items } = await s.store.list('vmkit-images', { prefix });
  return items.map((i) => i.name.slice(prefix.length)).sort();
}

describe('provider identity: the catalogue names the host', () => {
  it('keeps the catalogue under the id the provider reports after connecting', async () => {
    const p = hostProvider(join(s.dir, 'a.json'), 'uuid-a');
    expect(p.id).toBe(LEGACY);
    const service = await s.service(p, { images: [debianSpec('one')] });
    await service.ensureImage('one');
    expect(await recordNames('libvirt:uuid-a:qemu:///system')).toEqual(['one.json']);
    expect(await recordNames(LEGACY)).toEqual([]);
  });

  it('two hosts with the same URI on one store keep separate catalogues', async () => {
    const a = hostProvider(join(s.dir, 'a.json'), 'uuid-a');
    const b = hostProvider(join(s.dir, 'b.json'), 'uuid-b');
    const onA = await s.service(a, { images: [debianSpec('one')] });
    await onA.ensureImage('one');
    const onB = await s.service(b, { images: [debianSpec('one')] });
    // B does not take A's master for its own: it is B's to build, and B's build leaves A's alone.
    expect((await onB.getImage('one'))?.status).toBe('buildable');
    await onB.ensureImage('one');
    expect(b.stats.builds).toBe(1);
    expect(await recordNames('libvirt:uuid-a:qemu:///system')).toEqual(['one.json']);
    expect(await recordNames('libvirt:uuid-b:qemu:///system')).toEqual(['one.json']);
    expect(a.diskNames().some((d) => d.startsWith('master:'))).toBe(true);
  });

  it('migrates a catalogue written under the URI-only id, for the masters on this host only', async () => {
    const aState = join(s.dir, 'a.json');
    const old = await s.service(hostProvider(aState, undefined), {
      images: [debianSpec('one'), debianSpec('two')],
    });
    await old.ensureImage('one');
    await old.ensureImage('two');
    await old.close();
    expect(await recordNames(LEGACY)).toEqual(['one.json', 'two.json']);

    // Host B shares the store but has none of those masters: nothing is taken over.
    const b = hostProvider(join(s.dir, 'b.json'), 'uuid-b');
    const onB = await s.service(b, { images: [] });
    expect(await onB.listImages()).toEqual([]);
    expect(await recordNames('libvirt:uuid-b:qemu:///system')).toEqual([]);

    // Host A upgraded: its masters are found again without a rebuild; the old records stay for others.
    const a = hostProvider(aState, 'uuid-a');
    const onA = await s.service(a, { images: [debianSpec('one'), debianSpec('two')] });
    expect((await onA.listImages()).map((i) => [i.id, i.status])).toEqual([
      ['one', 'available'],
      ['two', 'available'],
    ]);
    await onA.createNodesInGroup('after-upgrade', 1, await onA.templateBuilder().imageId('one').build());
    expect(a.stats.builds).toBe(0);
    expect(await recordNames('libvirt:uuid-a:qemu:///system')).toEqual(['one.json', 'two.json']);
    expect(await recordNames(LEGACY)).toEqual(['one.json', 'two.json']);
  });

  it('does not migrate a record whose master is gone, nor migrate twice', async () => {
    const aState = join(s.dir, 'a.json');
    const old = await s.service(hostProvider(aState, undefined), {
      images: [debianSpec('one'), debianSpec('two')],
    });
    await old.ensureImage('one');
    const two = await old.ensureImage('two');
    await old.close();
    const a = hostProvider(aState, 'uuid-a');
    const master = a.diskNames().find((d) => d.startsWith('master:') && d.includes(two.id));
    expect(master).toBeDefined();
    a.vanishMaster((master as string).slice('master:'.length));
    await (await s.service(a, { images: [] })).close();
    expect(await recordNames('libvirt:uuid-a:qemu:///system')).toEqual(['one.json']);

    // The new catalogue has a record now: a later start does not copy the old ones again.
    const infos: string[] = [];
    const logger = { debug() {}, warn() {}, error() {}, info: (m: string) => infos.push(m) };
    await (await s.service(hostProvider(aState, 'uuid-a'), { images: [], logger })).close();
    expect(infos.filter((m) => m.includes('migrated'))).toEqual([]);
    const first: string[] = [];
    const fresh = hostProvider(join(s.dir, 'c.json'), 'uuid-c');
    const log2 = { debug() {}, warn() {}, error() {}, info: (m: string) => first.push(m) };
    await (await s.service(fresh, { images: [], logger: log2 })).close();
    expect(first.filter((m) => m.includes('migrated'))).toHaveLength(1);
  });
});
