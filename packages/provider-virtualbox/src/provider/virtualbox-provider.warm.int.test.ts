import { join } from 'node:path';
import { createComputeService, type MasterSpec, VmkitError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installerIso, testProvider, type VboxTestEnv, vboxTestEnv } from '../../test-support/vbox-env.js';

// Warm clones on VirtualBox: not offered (capabilities say nothing of warmClones), so a warm
// request is refused UNSUPPORTED before any master is built or machine made.

describe('VirtualBox warm clones', () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    env = await vboxTestEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('are not offered, and a warm request is refused before anything is made', async () => {
    const spec: MasterSpec = {
      id: 'warm-vbox',
      os: { family: 'linux', version: 'test', arch: 'x86_64' },
      source: { type: 'iso', path: await installerIso(env.folder) },
      hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
      warm: { until: 'agent' },
    };
    const provider = testProvider(env);
    await using compute = await createComputeService({
      provider,
      store: fileSystemBlobStore({ root: join(env.folder, 'store') }),
      images: [spec],
      ports: { leaseDir: join(env.folder, 'leases') },
    });
    expect((await provider.capabilities()).warmClones).toBeUndefined();
    const error = await compute.createNodesInGroup('w', 1, {}, { warm: true }).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as VmkitError).details.field).toBe('warm');
    expect((await compute.listImages())[0]?.status).toBe('buildable');
    expect(await compute.listNodes()).toEqual([]);
  });
});
