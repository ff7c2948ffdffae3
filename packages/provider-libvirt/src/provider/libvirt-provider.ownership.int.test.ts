import type { CloneSpec, MasterRef } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../test-support/test-guest.js';
import { type LibvirtProvider, libvirtProvider } from './libvirt-provider.js';
import { renderBuildDomainMetadata } from './node/node-metadata.js';

const uri = 'test+unix:///default';
const pool = 'default-pool';
const domainXml = (name: string, metadata = '') =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>` +
  `${metadata ? `<metadata>${metadata}</metadata>` : ''}</domain>`;

describe('libvirt provider: which domains are nodes, and clean failures (test driver)', () => {
  const prefix = runPrefix('o');
  let provider: LibvirtProvider;
  let master: MasterRef;
  const spec = (name: string, extra: Partial<CloneSpec> = {}): CloneSpec => ({
    name,
    group: 'g',
    imageId: 'i',
    master,
    hardware: { id: 'h', cores: 1, ramMiB: 64, diskGiB: 0 },
    network: { nics: [] },
    linked: true,
    tags: [],
    userMetadata: {},
    ...extra,
  });

  beforeAll(async () => {
    provider = libvirtProvider({ uri, pool, namePrefix: prefix });
    await provider.init();
    const client = provider.client!;
    const p = await client.storage.poolLookupByName(pool);
    const volume = `${prefix}m-master.qcow2`;
    await client.storage.volCreateXml(
      p,
      `<volume><name>${volume}</name><capacity unit='bytes'>1048576</capacity><target><format type='qcow2'/></target></volume>`,
    );
    master = {
      id: volume,
      data: { pool, volume, format: 'qcow2', capacityBytes: 1048576, boot: 'disk', volumes: [volume] },
    };
  });
  afterAll(async () => {
    await provider.close();
    await sweep(uri, prefix, pool);
  });

  it('treats a foreign domain with the prefix and a build domain as absent for every node operation', async () => {
    const client = provider.client!;
    const foreign = `${prefix}foreign`;
    const build = `${prefix}install-x`;
    await client.domains.defineXml(domainXml(foreign));
    await client.domains.defineXml(domainXml(build, renderBuildDomainMetadata(build, 'i', 'v', 'installer')));
    for (const name of [foreign, build]) {
      expect(await provider.getNode(name)).toBeUndefined();
      await expect(provider.startNode(name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(provider.suspendNode(name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await provider.destroyNode(name);
      expect((await client.domains.lookupByName(name)).name).toBe(name);
    }
    expect((await provider.listNodes()).map((n) => n.id)).not.toContain(foreign);
  });

  it('removes the domain and volumes when the reply to the definition is lost', async () => {
    const domains = provider.client!.domains;
    const real = domains.defineXml.bind(domains);
    const spy = vi.spyOn(domains, 'defineXml').mockImplementation(async (xml: string) => {
      await real(xml);
      throw new Error('reply lost');
    });
    try {
      await expect(provider.cloneNode(spec('lost'))).rejects.toThrow('reply lost');
    } finally {
      spy.mockRestore();
    }
    const left = await leftovers(uri, `${prefix}lost`, pool);
    expect(left).toEqual({ domains: [], volumes: [] });
  });

  it('refuses IPv6 port forwards with UNSUPPORTED before making anything', async () => {
    const nic = (hostIp?: string, guestIp?: string) => ({
      slot: 0,
      attachment: 'nat' as const,
      mac: '52:54:00:12:34:56',
      portForwards: [
        {
          name: 'ssh',
          protocol: 'tcp' as const,
          hostIp: hostIp ?? '127.0.0.1',
          hostPort: 2222,
          guestPort: 22,
          ...(guestIp ? { guestIp } : {}),
        },
      ],
    });
    await expect(provider.cloneNode(spec('v6', { network: { nics: [nic('::1')] } }))).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/hostIp ::1 is IPv6/),
    });
    await expect(
      provider.cloneNode(spec('v6', { network: { nics: [nic(undefined, 'fe80::2')] } })),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/guestIp/) });
    expect(await leftovers(uri, `${prefix}v6`, pool)).toEqual({ domains: [], volumes: [] });
  });

  it('close() during init closes the connection init makes', async () => {
    const other = libvirtProvider({ uri, pool, namePrefix: prefix });
    // Handled from the start: init may reject (closed) while close() is still running.
    const init = other.init().then(
      () => undefined,
      (error: unknown) => error,
    );
    await other.close();
    await init;
    expect(other.client).toBeUndefined();
  });

  it('destroys a node completely, and a second destroy is a no-op', async () => {
    const node = await provider.cloneNode(spec('gone'));
    await provider.destroyNode(node.id);
    await provider.destroyNode(node.id);
    expect(await leftovers(uri, node.id, pool)).toEqual({ domains: [], volumes: [] });
  });
});
