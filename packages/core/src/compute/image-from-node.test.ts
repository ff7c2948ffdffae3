import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import type { CreateImageFromNodeOptions } from '../model/node-image.js';
import type { NodeImageCapabilities } from '../spi/node-images.js';
import { memoryProvider } from '../testing/memory-provider.js';
import type { MemoryProvider } from '../testing/memory-provider-types.js';
import type { ProgressEvent } from '../util/progress.js';
import { debianSpec, failure, provider, type Scratch, scratch, withCapability } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

/** A memory provider that says it can do only what `imageFromNode` says (and counts the copies asked for). */
const limited = (caps: NodeImageCapabilities | undefined) =>
  withCapability('imageFromNode', caps, 'createMasterFromNode');

/** A memory provider over a state file, so a second one (after a restart) sees the same hypervisor. */
const onFile = () => memoryProvider({ statePath: join(s.dir, 'hypervisor.json') });

/** Names of the memory provider's masters and disks, to see that nothing was left. */
const masters = (p: MemoryProvider) => [...p.masterNames()].sort();

describe('images made from nodes', () => {
  it('makes a flattened, sealed image that lists, clones and survives a restart; the node is unchanged', async () => {
    const p = onFile();
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    const id = node?.id as string;
    const events: ProgressEvent[] = [];
    const image = await service.createImageFromNode(id, {
      imageId: 'web-golden',
      name: 'Web golden',
      onProgress: (e) => events.push(e),
    });
    expect(image).toMatchObject({
      id: 'web-golden',
      name: 'Web golden',
      status: 'available',
      os: debianSpec().os,
    });
    expect(events.filter((e) => e.phase === 'image').map((e) => e.fraction)).toEqual([0, 1]);
    expect((await service.getNode(id))?.status).toBe('running');
    // The master a node was cloned from is the provider's business, not the caller's.
    expect(await service.getNode(id)).not.toHaveProperty('master');
    expect((await service.listImages()).map((i) => i.id)).toEqual(['debian-12', 'web-golden']);
    // Its own master, flattened (no backing disk), sealed on the copy.
    const made = masters(p).filter((m) => m.startsWith('vmkit-web-golden-'));
    expect(made).toHaveLength(1);
    expect(p.masterSteps(made[0] as string)).toEqual([`from-node:${id}`, 'seal']);
    expect(p.diskBacking(`master:${made[0]}`)).toBeNull();
    expect(p.diskBacking(`node:${id}`)).toMatch(/^master:vmkit-debian-12-/);
    const golden = await service.templateBuilder().imageId('web-golden').build();
    const clones = await service.createNodesInGroup('copy', 2, golden);
    expect(clones.map((c) => c.imageId)).toEqual(['web-golden', 'web-golden']);
    // It exports like any image (the memory provider writes its raw marker disk).
    const exported = await service.exportImageDisk('web-golden', join(s.dir, 'golden.raw'));
    expect(exported).toMatchObject({ format: 'raw' });
    expect((await service.diskUsage()).masters.map((m) => m.imageId)).toContain('web-golden');
    await service.close();
    // A second service on the same store finds it in the catalogue and clones from it.
    const again = await s.service(onFile());
    expect(await again.getImage('web-golden')).toMatchObject({ status: 'available', name: 'Web golden' });
    const more = await again.templateBuilder().imageId('web-golden').build();
    expect((await again.createNodesInGroup('later', 1, more))[0]?.imageId).toBe('web-golden');
  });

  it('lets one of two processes make an image id: the other gets CONFLICT naming imageId, its copy deleted', async () => {
    const [pa, pb] = [onFile(), onFile()];
    const [a, b] = [await s.service(pa), await s.service(pb)];
    const [na] = await a.createNodesInGroup('web', 1);
    const [nb] = await b.createNodesInGroup('api', 1);
    await a.createImageFromNode(na?.id as string, { imageId: 'golden' });
    // b started before the record existed: only the store can tell it.
    const lost = await failure(b.createImageFromNode(nb?.id as string, { imageId: 'golden' }));
    expect(lost).toMatchObject({ code: 'CONFLICT', details: { field: 'imageId' } });
    // One hypervisor under both: only the winner's master is left.
    expect(masters(pb).filter((m) => m.startsWith('vmkit-golden-'))).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
    const later = await s.service(onFile());
    expect(await later.getImage('golden')).toMatchObject({ status: 'available' });
  });

  it('copies without sealing when seal is false', async () => {
    const p = provider();
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    await service.createImageFromNode(node?.id as string, { imageId: 'raw-copy', seal: false });
    const made = masters(p).find((m) => m.startsWith('vmkit-raw-copy-')) as string;
    expect(p.masterSteps(made)).toEqual([`from-node:${node?.id}`]);
  });

  it('refuses bad options naming the field, an unknown node, and an image id the catalogue has', async () => {
    const p = limited({ stopped: true, running: true, seal: true });
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    const id = node?.id as string;
    const bad = async (options: unknown) =>
      failure(service.createImageFromNode(id, options as CreateImageFromNodeOptions));
    expect(await bad({ imageId: 'Upper' })).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'imageId' },
    });
    expect(await bad({ imageId: 'a..b' })).toMatchObject({ details: { field: 'imageId' } });
    expect(await bad({})).toMatchObject({ details: { field: 'imageId' } });
    expect(await bad({ imageId: 'ok', name: '' })).toMatchObject({ details: { field: 'name' } });
    expect(await bad({ imageId: 'ok', seal: 'yes' })).toMatchObject({ details: { field: 'seal' } });
    expect(await failure(service.createImageFromNode('no-such-node', { imageId: 'ok' }))).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await bad({ imageId: 'debian-12' })).toMatchObject({
      code: 'CONFLICT',
      details: { field: 'imageId' },
    });
    await service.createImageFromNode(id, { imageId: 'taken' });
    expect(await bad({ imageId: 'taken' })).toMatchObject({ code: 'CONFLICT' });
    expect(p.calls).toBe(1);
  });

  it('refuses early what capabilities().imageFromNode leaves out, with the reason', async () => {
    const none = limited(undefined);
    const plain = await s.service(none);
    const [n0] = await plain.createNodesInGroup('web', 1);
    expect(await failure(plain.createImageFromNode(n0?.id as string, { imageId: 'x' }))).toMatchObject({
      code: 'UNSUPPORTED',
    });
    await plain.close();
    const p = limited({ stopped: true, running: false, seal: false });
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web2', 1);
    const id = node?.id as string;
    const running = await failure(service.createImageFromNode(id, { imageId: 'x', seal: false }));
    expect(running).toMatchObject({ code: 'UNSUPPORTED' });
    expect(running?.message).toMatch(/is running.*stop it first/);
    await service.stopNode(id);
    const sealed = await failure(service.createImageFromNode(id, { imageId: 'x' }));
    expect(sealed).toMatchObject({ code: 'UNSUPPORTED', details: { field: 'seal' } });
    await service.suspendNode(id).catch(() => {});
    expect(p.calls).toBe(0);
    await service.startNode(id);
    await service.suspendNode(id);
    expect(await failure(service.createImageFromNode(id, { imageId: 'x', seal: false }))).toMatchObject({
      code: 'CONFLICT',
    });
    expect(p.calls).toBe(0);
  });

  it('rolls back a failed or aborted copy and a record that cannot be saved: no master, no record', async () => {
    const p = onFile();
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    const id = node?.id as string;
    const before = masters(p);
    p.faults.failStep = 'image-from-node';
    expect(await failure(service.createImageFromNode(id, { imageId: 'broken' }))).toMatchObject({
      code: 'PROVIDER',
    });
    p.faults.failStep = undefined;
    p.faults.buildDelayMs = 2_000;
    const controller = new AbortController();
    const making = service.createImageFromNode(id, {
      imageId: 'aborted',
      signal: controller.signal,
      onProgress: (e) => {
        if (e.phase === 'image' && (e.fraction ?? 0) > 0) controller.abort();
      },
    });
    expect(await failure(making)).toMatchObject({ code: 'ABORTED' });
    p.faults.buildDelayMs = 0;
    // A store that refuses the record: the master just made is deleted again.
    const put = s.store.putBlob.bind(s.store);
    s.store.putBlob = async (container, name, ...rest) => {
      if (name.endsWith('unsaved.json')) throw new VmkitError('STORE', 'store refused the record');
      return put(container, name, ...rest);
    };
    expect(await failure(service.createImageFromNode(id, { imageId: 'unsaved' }))).toMatchObject({
      code: 'STORE',
    });
    s.store.putBlob = put;
    expect(masters(p)).toEqual(before);
    expect((await service.listImages()).map((i) => i.id)).toEqual(['debian-12']);
    await service.close();
    const again = await s.service(onFile());
    expect((await again.listImages()).map((i) => i.id)).toEqual(['debian-12']);
    // The node is as it was, and the id is free again.
    expect((await again.getNode(id))?.status).toBe('running');
    expect((await again.createImageFromNode(id, { imageId: 'unsaved' })).id).toBe('unsaved');
  });

  it('marks an image made from a node broken, not rebuildable, when its master vanishes', async () => {
    const p = onFile();
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    await service.createImageFromNode(node?.id as string, { imageId: 'gone' });
    await service.close();
    const made = masters(p).find((m) => m.startsWith('vmkit-gone-')) as string;
    const q = onFile();
    q.vanishMaster(made);
    const again = await s.service(q);
    expect(await again.getImage('gone')).toMatchObject({ status: 'broken' });
    const builds = q.stats.builds;
    const template = await again.templateBuilder().imageId('gone').build();
    const refused = await failure(again.createNodesInGroup('x', 1, template));
    expect(refused).toMatchObject({ code: 'NOT_FOUND' });
    expect(refused?.message).toMatch(/made from node .* cannot be built again/);
    expect(q.stats.builds).toBe(builds);
  });

  it("records the spec of the node's own master: not a changed spec built since, nor one not built yet", async () => {
    // A bios node, then the image's spec turns to efi (a review finding: the new image claimed efi).
    const efi = debianSpec('debian-12', { hardware: { cores: 1, ramMiB: 256, diskGiB: 1, firmware: 'efi' } });
    const a = await s.service(onFile());
    const [old] = await a.createNodesInGroup('web', 1);
    await a.close();
    const b = await s.service(onFile(), { images: [efi] });
    expect((await b.getImage('debian-12'))?.status).toBe('buildable');
    // Not built yet: the record's master is still the node's, and its spec (bios) is what is recorded.
    const made = await b.createImageFromNode(old?.id as string, { imageId: 'from-old', seal: false });
    expect(made.defaultHardware.firmware).toBe('bios');
    const template = await b.templateBuilder().imageId('from-old').build();
    expect((await b.createNodesInGroup('copy', 1, template))[0]?.hardware.firmware).toBe('bios');
    // Built now: the node's master is no longer the image's, and the spec it was built from is gone.
    await b.ensureImage('debian-12');
    const refused = await failure(b.createImageFromNode(old?.id as string, { imageId: 'from-stale' }));
    expect(refused).toMatchObject({ code: 'CONFLICT', details: { node: old?.id, imageId: 'debian-12' } });
    expect(refused?.message).toMatch(/was cloned from master vmkit-debian-12-.*rebuilt since/);
    expect(await b.getImage('from-stale')).toBeUndefined();
    // A node of the new master makes an efi image.
    const [fresh] = await b.createNodesInGroup('web', 1);
    const current = await b.createImageFromNode(fresh?.id as string, { imageId: 'from-new' });
    expect(current.defaultHardware.firmware).toBe('efi');
  });

  it("keeps the login secrets of the node's master when its spec changed and is not built yet", async () => {
    const login = { user: 'root', password: 'pw-of-the-node' };
    const a = await s.service(onFile(), { images: [debianSpec('debian-12', { login })] });
    const [node] = await a.createNodesInGroup('web', 1);
    await a.close();
    // The spec changes (more memory), the secret stays: the record's spec (a digest only) gets it back.
    const more = { cores: 1, ramMiB: 512, diskGiB: 1 };
    const b = await s.service(onFile(), { images: [debianSpec('debian-12', { login, hardware: more })] });
    const made = await b.createImageFromNode(node?.id as string, { imageId: 'with-secret', seal: false });
    expect(made.login).toMatchObject({ user: 'root', password: 'pw-of-the-node' });
    expect(made.defaultHardware.ramMiB).toBe(256);
    await b.close();
    // The secret changed too: the one the node's image was made with is not known, so refused.
    const other = { user: 'root', password: 'another' };
    const c = await s.service(onFile(), {
      images: [debianSpec('debian-12', { login: other, hardware: more })],
    });
    const refused = await failure(c.createImageFromNode(node?.id as string, { imageId: 'no-secret' }));
    expect(refused).toMatchObject({ code: 'CONFLICT', details: { field: 'login' } });
    expect(await c.getImage('no-secret')).toBeUndefined();
  });

  it("refuses a node whose firmware is not its image's, when the provider does not say its master", async () => {
    const p = provider();
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('web', 1);
    const real = p.getNode.bind(p);
    // A provider keeping no master in its records, and a node booting efi under a bios spec.
    p.getNode = async (id) => {
      const found = await real(id);
      if (!found) return found;
      const { master: _m, ...rest } = found;
      return { ...rest, hardware: { ...rest.hardware, firmware: 'efi' } };
    };
    const refused = await failure(service.createImageFromNode(node?.id as string, { imageId: 'wrong' }));
    expect(refused).toMatchObject({ code: 'CONFLICT', details: { field: 'hardware.firmware' } });
    expect(refused?.message).toMatch(/boots efi firmware, but image debian-12's master was built for bios/);
    expect(p.masterNames().filter((m) => m.startsWith('vmkit-wrong-'))).toEqual([]);
  });
});
