import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { VMKIT_TYPES, vmkitContainerModule } from '../inversify/index.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import { memoryProvider } from '../testing/memory-provider.js';
import { resolveComputeServiceOptions } from './compute-service-options.js';
import { createComputeService } from './create-compute-service.js';
import { debianSpec } from './service.fixture.js';

describe('resolveComputeServiceOptions', () => {
  const provider = memoryProvider();
  const bad = (options: object, field: RegExp) => {
    let error: unknown;
    try {
      resolveComputeServiceOptions(options as never);
    } catch (e) {
      error = e;
    }
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(field);
  };

  it('names the bad option', () => {
    bad({}, /^provider: is required/);
    bad({ provider: { ...provider, cloneNode: undefined } }, /^provider\.cloneNode: /);
    bad({ provider, container: 'Bad/Name' }, /^container: /);
    bad({ provider, cache: { max: 0 } }, /^cache\.max: /);
    bad({ provider, concurrency: { clones: 1.5 } }, /^concurrency\.clones: /);
    bad({ provider, logger: { info() {} } }, /^logger\.debug: /);
    bad({ provider, buildLease: { ttlMs: 500 } }, /^buildLease\.ttlMs: /);
    bad(
      { provider, buildLease: { ttlMs: 6000, renewMs: 3000 } },
      /^buildLease\.renewMs: must be at most a third/,
    );
  });

  it('refuses two images with one id, naming both indices (the later would silently win)', () => {
    const a = debianSpec('debian-12');
    const b = { ...debianSpec('debian-12'), name: 'other' };
    bad(
      { provider, images: [debianSpec('alpine'), a, b] },
      /^images\[2\]\.id: must be unique: images\[1\] has the same id 'debian-12'$/,
    );
    expect(resolveComputeServiceOptions({ provider, images: [a, debianSpec('alpine')] }).images).toHaveLength(
      2,
    );
  });

  it('freezes the resolved options and fills defaults', () => {
    const resolved = resolveComputeServiceOptions({ provider, store: memoryBlobStore() });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(resolved.container).toBe('vmkit-images');
    expect(resolved.concurrency).toEqual({ builds: 2, clones: 4 });
    expect(resolved.buildLease).toEqual({ ttlMs: 60_000, renewMs: 15_000 });
  });

  it('names a bad image spec by its index and field', async () => {
    const spec = { ...debianSpec(), os: { family: 'Debian!', version: '12', arch: 'x86_64' } };
    await expect(
      createComputeService({ provider, store: memoryBlobStore(), images: [spec] }),
    ).rejects.toThrow(/^images\[0\]: spec\.os\.family: must be a lower-case family name/);
    // The failed start closed the provider: a closed provider stays closed, so this takes a new one.
    const traversal = { ...debianSpec(), id: '../../x' };
    await expect(
      createComputeService({ provider: memoryProvider(), store: memoryBlobStore(), images: [traversal] }),
    ).rejects.toThrow(/spec\.id: must be 1-63/);
  });

  it('accepts console as a logger and works as an inversify module and with await using', async () => {
    const container = new Container();
    await container.load(
      vmkitContainerModule({ provider: memoryProvider(), store: memoryBlobStore(), images: [debianSpec()] }),
    );
    const service = await container.getAsync(VMKIT_TYPES.ComputeService);
    expect((await service.listImages()).map((i) => i.id)).toEqual(['debian-12']);
    let closedProvider = false;
    const p: HypervisorProvider = {
      ...memoryProvider(),
      close: async () => {
        closedProvider = true;
      },
    };
    {
      await using s = await createComputeService({ provider: p, store: memoryBlobStore(), logger: console });
      expect(await s.listNodes()).toEqual([]);
    }
    expect(closedProvider).toBe(true);
  });
});
