import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, describe, expect, it } from 'vitest';
import { sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { libvirtProvider } from './libvirt-provider.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('m');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-volume-modes-'));

describe('volumes holding user data on qemu:///system', () => {
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it("a node's config drive, its disk and its master's volumes are files other users cannot read", async () => {
    await using compute = await createComputeService({
      provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [testGuestMasterSpec('vm-guest')],
      ports: { leaseDir: join(dir, 'ports'), probe: false },
    });
    const [node] = await compute.createNodesInGroup('sec', 1, {
      userData: '#cloud-config\npassword: not-for-others\n',
    });
    const client = await LibvirtClient.connect(URI);
    try {
      const pool = await client.storage.poolLookupByName(POOL);
      await client.storage.poolRefresh(pool);
      const mine = (await client.storage.poolListAllVolumes(pool)).filter((v) => v.name.startsWith(prefix));
      const modes: Record<string, string> = {};
      const declared: Record<string, string | undefined> = {};
      for (const vol of mine) {
        const path = await client.storage.volGetPath(vol);
        modes[vol.name] = (statSync(path).mode & 0o777).toString(8);
        declared[vol.name] = /<mode>(\d+)<\/mode>/.exec(await client.storage.volGetXmlDesc(vol))?.[1];
      }
      const drive = Object.keys(modes).find((n) => n.startsWith(`${prefix}${node?.name}-config`));
      expect(drive, JSON.stringify(modes)).toBeDefined();
      for (const name of Object.keys(modes)) {
        expect(`${name} ${modes[name]}`).toBe(`${name} 600`);
        expect(`${name} ${declared[name]}`).toBe(`${name} 0600`);
      }
    } finally {
      await client.close();
    }
  });
});
