import type { MasterRef } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweep } from '../../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../../test-support/test-guest.js';
import { LibvirtClient } from '../../client/libvirt-client.js';
import { libvirtProvider } from '../libvirt-provider.js';
import { volumeXml } from '../xml/storage-xml.js';
import { LOOKUP_LIMIT } from './masters-exist.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('me');

describe('mastersExist on qemu:///system', () => {
  const provider = libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix });
  let client: LibvirtClient;
  beforeAll(async () => {
    await provider.init();
    client = await LibvirtClient.connect(URI);
    const pool = await client.storage.poolLookupByName(POOL);
    for (const name of ['m-one.qcow2', 'm-k.qcow2', 'm-k.vmlinuz', 'm-k.initrd', 'm-h.qcow2', 'foreign']) {
      await client.storage.volCreateXml(
        pool,
        volumeXml({ name: `${prefix}${name}`, capacityBytes: 1 << 20, format: 'qcow2' }),
      );
    }
  });
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    await client?.close();
    await provider.close();
  });

  it('answers the same with a lookup per master and with one pool listing, in order', async () => {
    const disk = (name: string, volumes = [`${prefix}m-${name}.qcow2`]): MasterRef => ({
      id: `${prefix}m-${name}.qcow2`,
      data: {
        pool: POOL,
        volume: `${prefix}m-${name}.qcow2`,
        format: 'qcow2',
        capacityBytes: 1 << 20,
        boot: 'disk',
        volumes,
      },
    });
    const kernel = (name: string): MasterRef => {
      const base = `${prefix}m-${name}`;
      return {
        id: `${base}.qcow2`,
        data: {
          ...disk(name).data,
          boot: 'kernel',
          kernelVolume: `${base}.vmlinuz`,
          initrdVolume: `${base}.initrd`,
          cmdline: '',
          volumes: [`${base}.qcow2`, `${base}.vmlinuz`, `${base}.initrd`],
        },
      };
    };
    const present: MasterRef[] = [disk('one'), kernel('k')];
    // Absent: never made; a kernel master missing its kernel; one naming a volume vmkit did not make.
    const absent: MasterRef[] = [
      disk('never'),
      kernel('h'),
      disk('one', [`${prefix}m-one.qcow2`, `${prefix}foreign`]),
    ];
    const refs = [...present, ...absent];
    const expected = [true, true, false, false, false];
    // Few masters: one lookup per volume.
    expect(refs.length).toBeLessThanOrEqual(LOOKUP_LIMIT);
    expect(await provider.mastersExist(refs)).toEqual(expected);
    // Many masters (as at start-up): one listing of the pool, same answers in the same order.
    const many = Array.from({ length: 5 * LOOKUP_LIMIT }, (_, i) => refs[i % refs.length] as MasterRef);
    expect(await provider.mastersExist(many)).toEqual(many.map((_, i) => expected[i % expected.length]));
  });
});
