import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { libvirtProvider } from './libvirt-provider.js';
import { NODE_LEFTOVER_GRACE_MS } from './master/build-artefacts.js';
import { volumeXml } from './xml/storage-xml.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('n');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-node-leftovers-'));

describe('leftovers of node creations killed before the domain existed, on qemu:///system', () => {
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('start-up removes a node disk and config drive older than the grace age that no domain owns; a younger one stays', async () => {
    const client = await LibvirtClient.connect(URI);
    try {
      const pool = await client.storage.poolLookupByName(POOL);
      const make = async (name: string, ageMs: number) => {
        const vol = await client.storage.volCreateXml(
          pool,
          volumeXml({ name, capacityBytes: 1 << 20, format: name.endsWith('.qcow2') ? 'qcow2' : 'raw' }),
        );
        const when = new Date(Date.now() - ageMs);
        utimesSync(await client.storage.volGetPath(vol), when, when);
      };
      const old = NODE_LEFTOVER_GRACE_MS + 60_000;
      await make(`${prefix}web-1.qcow2`, old);
      await make(`${prefix}web-1-config.iso`, old);
      await make(`${prefix}web-2.qcow2`, 1000); // a node another process may be creating now
      await client.storage.poolRefresh(pool);

      await using compute = await createComputeService({
        provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
        store: fileSystemBlobStore({ root: join(dir, 'store') }),
        images: [testGuestMasterSpec('nl-guest')],
        ports: { leaseDir: join(dir, 'ports'), probe: false },
      });
      expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [`${prefix}web-2.qcow2`] });
      const pruned = await compute.pruneImages();
      expect(pruned.removed).toEqual([]);
      expect(pruned.kept).toContainEqual({ kind: 'leftover', id: `${prefix}web-2.qcow2`, reason: 'in use' });
    } finally {
      await client.close();
    }
  });
});
