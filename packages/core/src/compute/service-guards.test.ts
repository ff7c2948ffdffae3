import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../blobstore/blob-store.js';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { memoryProvider } from '../testing/memory-provider.js';
import { sleep } from '../util/abort.js';
import { createComputeService } from './create-compute-service.js';
import { debianSpec, provider, type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

describe('compute service guards', () => {
  it('refuses to delete an image while nodes are being cloned from it', async () => {
    const p = provider();
    const service = await s.service(p);
    await service.ensureImage('debian-12');
    // Clones wait at a gate until the delete has answered: the delete meets them mid-clone.
    let cloning!: () => void;
    const started = new Promise<void>((r) => {
      cloning = r;
    });
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const clone = p.cloneNode.bind(p);
    p.cloneNode = async (...args) => {
      cloning();
      await gate;
      return clone(...args);
    };
    const launching = service.createNodesInGroup('busy', 2);
    await started;
    await expect(service.deleteImage('debian-12')).rejects.toSatisfy((e) => VmkitError.is(e, 'CONFLICT'));
    open();
    expect(await launching).toHaveLength(2);
    expect(p.masterNames()).toHaveLength(1);
  });

  it('keeps the master when a forced delete cannot destroy a node', async () => {
    const p = provider();
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('stuck', 1);
    const destroy = p.destroyNode.bind(p);
    p.destroyNode = async () => {
      throw new VmkitError('PROVIDER', 'domain is locked');
    };
    await expect(service.deleteImage('debian-12', { force: true })).rejects.toThrow(/could not be destroyed/);
    expect(p.masterNames()).toHaveLength(1);
    p.destroyNode = destroy;
    await service.destroyNode(node?.id as string);
  });

  it('close aborts a running build and waits for its clean-up before closing the provider', async () => {
    const p = provider({ buildDelayMs: 5_000 });
    let closedWithMasters: string[] | undefined;
    p.close = async () => {
      closedWithMasters = p.masterNames();
    };
    // A clean-up that takes a while: a close that did not wait for it would find the master.
    const plan = p.planMasterBuild.bind(p);
    p.planMasterBuild = (...args) => {
      const build = plan(...args);
      return {
        ...build,
        discard: async (context) => {
          await sleep(100);
          await build.discard(context);
        },
      };
    };
    const service = await s.service(p);
    const building = service.ensureImage('debian-12').catch((e: unknown) => e);
    // Running: its first step made the (partial) master.
    while (p.masterNames().length === 0) await sleep(5);
    await service.close();
    expect(VmkitError.is(await building, 'ABORTED')).toBe(true);
    expect(closedWithMasters).toEqual([]);
  });

  it('deletes a superseded master once the last node of the image is gone', async () => {
    const statePath = join(s.dir, 'hv.json');
    const a = await s.service(memoryProvider({ statePath }));
    const [node] = await a.createNodesInGroup('old', 1);
    await a.close();
    const p = memoryProvider({ statePath });
    const changed = debianSpec('debian-12', { hardware: { cores: 2 } });
    const b = await s.service(p, { images: [changed] });
    await b.ensureImage('debian-12');
    expect(p.masterNames()).toHaveLength(2);
    await b.destroyNode(node?.id as string);
    expect(p.masterNames()).toHaveLength(1);
    // A restart finds nothing left to clean and the current master in use.
    const c = await s.service(memoryProvider({ statePath }), { images: [changed] });
    expect((await c.getImage('debian-12'))?.status).toBe('available');
  });

  it('checks a hand-built template', async () => {
    const service = await s.service(provider());
    const image = (await service.getImage('debian-12'))!;
    await expect(
      service.createNodesInGroup('t', 1, {
        image,
        hardware: { id: 'x', cores: -3, ramMiB: 1e15, diskGiB: Number.NaN },
        options: {},
      }),
    ).rejects.toThrow(/^template\.hardware\.cores: /);
    await expect(
      service.createNodesInGroup('t', 1, {
        image: { ...image, id: 'nope' },
        hardware: image.defaultHardware,
        options: {},
      }),
    ).rejects.toSatisfy((e) => VmkitError.is(e, 'NOT_FOUND'));
  });

  it('closes the provider and names the store when start-up fails', async () => {
    let closed = 0;
    const p = { ...memoryProvider(), close: async () => void closed++ };
    const failing: BlobStore = {
      ...memoryBlobStore(),
      async createContainer() {
        throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
      },
    };
    const error = await createComputeService({ provider: p, store: failing }).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'STORE')).toBe(true);
    expect((error as Error).message).toMatch(/metadata store.*permission denied/);
    expect(closed).toBe(1);
  });
});
