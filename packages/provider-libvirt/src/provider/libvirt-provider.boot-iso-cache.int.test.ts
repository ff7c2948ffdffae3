import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createComputeService, type MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { bootIsoCache } from '@vmkit/imaging';
import { afterAll, describe, expect, it } from 'vitest';
import { countingBootIsoCache } from '../../../imaging/src/boot-iso/counting-boot-iso-cache.fixture.js';
import { leftovers, poolVolumeNames, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../test-support/test-guest.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { libvirtProvider } from './libvirt-provider.js';

// The live boot ISO fixture of scripts/test.d/30-boot-isos.sh, remastered with kernel parameters.
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const FIXTURE = join(process.env.VMKIT_BOOT_ISO_DIR ?? join(repo, '.vmkit', 'boot-isos'), 'live.iso');
const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('bic');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-bootiso-cache-libvirt-'));

afterAll(async () => {
  await sweep(URI, prefix, POOL);
  rmSync(dir, { recursive: true, force: true });
});

describe('the boot ISO cache on libvirt', () => {
  it('remasters once for two bootIso masters of the same ISO and parameters; both are uploaded and deleted', async () => {
    const spec = (id: string): MasterSpec => ({
      id,
      os: { family: 'linux', version: 'vmkit-live', arch: 'x86_64' },
      source: { type: 'bootIso', path: FIXTURE, kernelParams: 'vmkit.cache=libvirt7' },
    });
    const cache = countingBootIsoCache(bootIsoCache({ dir: join(dir, 'cache'), maxBytes: 1 << 30 }));
    const client = await LibvirtClient.connect(URI);
    try {
      await using compute = await createComputeService({
        provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix, bootIsoCache: cache }),
        store: fileSystemBlobStore({ root: join(dir, 'store') }),
        images: [spec('live-one'), spec('live-two')],
        ports: { leaseDir: join(dir, 'leases') },
      });
      await compute.ensureImage('live-one');
      await compute.ensureImage('live-two');
      expect(cache.gets).toBe(2);
      expect(cache.remastered).toBe(1);
      expect(readdirSync(join(dir, 'cache')).filter((f) => f.endsWith('.iso'))).toHaveLength(1);
      // Each master has its own volume in the pool, uploaded from the one remastered copy.
      const masters = await poolVolumeNames(client, POOL, `${prefix}m-`);
      expect(masters).toHaveLength(2);
      const sizes = await Promise.all(
        masters.map(async (name) => {
          const pool = await client.storage.poolLookupByName(POOL);
          return (await client.storage.volGetInfo(await client.storage.volLookupByName(pool, name))).capacity;
        }),
      );
      expect(sizes[0]).toBe(sizes[1]);
      await compute.deleteImage('live-one');
      await compute.deleteImage('live-two');
      expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [] });
    } finally {
      await client.close();
    }
  });
});
