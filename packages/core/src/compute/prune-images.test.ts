import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { MEMORY_DISK_BYTES } from '../testing/memory-housekeeping.js';
import { debianSpec, provider, type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

const HOUR = 3_600_000;

describe('pruneImages', () => {
  it('removes a master no node uses and its record; the configured image becomes buildable again', async () => {
    const p = provider();
    const service = await s.service(p);
    await service.ensureImage('debian-12');
    expect(p.masterNames()).toHaveLength(1);
    const result = await service.pruneImages();
    expect(result.removed).toEqual([
      { kind: 'image', id: 'debian-12', imageId: 'debian-12', bytes: MEMORY_DISK_BYTES.master },
    ]);
    expect(p.masterNames()).toEqual([]);
    expect((await service.getImage('debian-12'))?.status).toBe('buildable');
    // The record is gone: a new service finds nothing to load.
    const again = await s.service(p);
    expect((await again.getImage('debian-12'))?.builtAt).toBeUndefined();
  });

  it('keeps a master while a node uses it, and removes it once the node is destroyed', async () => {
    const p = provider();
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    const kept = await service.pruneImages();
    expect(kept.removed).toEqual([]);
    expect(kept.kept).toContainEqual({ kind: 'image', id: 'debian-12', reason: 'used by 1 node(s)' });
    expect(p.masterNames()).toHaveLength(1);
    await service.destroyNode(node?.id as string);
    expect((await service.pruneImages()).removed.map((r) => r.id)).toEqual(['debian-12']);
    expect(p.masterNames()).toEqual([]);
  });

  it('reports without removing in a dry run', async () => {
    const p = provider();
    const service = await s.service(p);
    await service.ensureImage('debian-12');
    p.plantLeftover('vmkit-debian-12-0123abcd-dead', 'debian-12');
    const result = await service.pruneImages({ dryRun: true });
    expect(result.dryRun).toBe(true);
    expect(result.removed.map((r) => `${r.kind}:${r.id}`).sort()).toEqual([
      'image:debian-12',
      'leftover:vmkit-debian-12-0123abcd-dead',
    ]);
    expect(p.masterNames()).toHaveLength(2);
  });

  it('removes the leftover of a crashed build but never the master a record owns', async () => {
    const p = provider();
    const service = await s.service(p);
    await service.createNodesInGroup('web', 1);
    p.plantLeftover('vmkit-debian-12-0123abcd-dead', 'debian-12');
    const result = await service.pruneImages();
    expect(result.removed).toEqual([
      {
        kind: 'leftover',
        id: 'vmkit-debian-12-0123abcd-dead',
        imageId: 'debian-12',
        bytes: MEMORY_DISK_BYTES.master,
      },
    ]);
    expect(p.masterNames()).toHaveLength(1);
    expect((await service.listNodes())[0]?.status).toBe('running');
  });

  it('keeps masters and leftovers younger than unusedFor', async () => {
    const p = provider();
    const service = await s.service(p);
    await service.ensureImage('debian-12');
    p.plantLeftover('vmkit-old-00000000-0001', 'old', new Date(Date.now() - 2 * HOUR).toISOString());
    p.plantLeftover('vmkit-new-00000000-0002', 'new');
    const result = await service.pruneImages({ unusedFor: HOUR });
    expect(result.removed.map((r) => r.id)).toEqual(['vmkit-old-00000000-0001']);
    expect(result.kept.map((k) => k.id).sort()).toEqual(['debian-12', 'vmkit-new-00000000-0002']);
    expect(p.masterNames()).not.toContain('vmkit-old-00000000-0001');
  });

  it('never removes the artefacts of a build running in this process', async () => {
    const p = provider({ buildDelayMs: 1500 });
    const service = await s.service(p);
    const build = service.ensureImage('debian-12');
    await expect.poll(() => p.masterNames()).toHaveLength(1); // the build has made its master
    const result = await service.pruneImages();
    expect(result.removed).toEqual([]);
    expect(result.kept.map((k) => k.reason)).toContain('a build of its image is running');
    await build;
    expect((await service.getImage('debian-12'))?.status).toBe('available');
  });

  it('names unusedFor when it is not a non-negative number', async () => {
    const service = await s.service(provider());
    const error = await service.pruneImages({ unusedFor: -1 }).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/unusedFor/);
  });

  it('stops when the signal fires and leaves what it had not reached', async () => {
    const p = provider();
    const service = await s.service(p, { images: [debianSpec('a'), debianSpec('b')] });
    await service.ensureImage('a');
    await service.ensureImage('b');
    const controller = new AbortController();
    controller.abort();
    const error = await service.pruneImages({ signal: controller.signal }).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'ABORTED')).toBe(true);
    expect(p.masterNames()).toHaveLength(2);
  });
});
