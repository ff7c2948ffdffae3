import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigDriveSpec } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudInitRead, run, tempDir, xorrisoComplaints, xorrisoExtract } from '../../test-fixtures/tools.js';
import { buildConfigDrive } from './build-config-drive.js';

const userData = '#cloud-config\npackages: [jq]\nwrite_files:\n  - path: /etc/ünïcødé\n    content: "名前"\n';
const keys = [
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample a@b',
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQExample c@d',
];
const v2 = { version: 2, ethernets: { eth0: { match: { macaddress: '52:54:00:12:34:56' }, dhcp4: true } } };

/** Extracts a drive with xorriso (iso9660) or mcopy (vfat) so cloud-init can read the tree. */
async function extract(
  image: Uint8Array,
  dir: string,
  name: string,
  filesystem: 'iso9660' | 'vfat',
): Promise<string> {
  const file = join(dir, name);
  const out = join(dir, `${name}.d`);
  await writeFile(file, image);
  if (filesystem === 'iso9660') expect(xorrisoComplaints(await xorrisoExtract(file, out))).toEqual([]);
  else await run('mcopy', ['-s', '-n', '-i', file, '::/', out]);
  return out;
}

describe("cloud-init's own datasource code reads our config drives", () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir('cloud-init');
  });
  afterAll(async () => tmp?.remove());

  it.each(['iso9660', 'vfat'] as const)(
    'NoCloud on %s: instance-id, hostname, keys, user-data, vendor-data, network-config',
    async (filesystem) => {
      const spec: ConfigDriveSpec = {
        format: 'nocloud',
        filesystem,
        instanceId: 'iid-nocloud-1',
        hostname: 'node-1',
        userData,
        vendorData: '#cloud-config\nruncmd: [true]\n',
        networkConfig: v2,
        publicKeys: keys,
        metaData: { 'availability-zone': 'zone-a', tags: { role: 'db' } },
      };
      const dir = await extract(await buildConfigDrive(spec), tmp.path, `nocloud.${filesystem}`, filesystem);
      const read = await cloudInitRead('nocloud', dir);
      expect(read['instance-id']).toBe('iid-nocloud-1');
      expect(read['local-hostname']).toBe('node-1');
      expect(read['user-data']).toBe(userData);
      expect(read['vendor-data']).toBe('#cloud-config\nruncmd: [true]\n');
      expect(read['network-config']).toEqual(v2);
      expect(read['meta-data']).toMatchObject({
        'public-keys': keys,
        'availability-zone': 'zone-a',
        tags: { role: 'db' },
      });
    },
  );

  it('NoCloud keeps binary user data byte for byte', async () => {
    const binary = Uint8Array.from({ length: 300 }, (_, i) => (i * 31) & 0xff);
    const dir = await extract(
      await buildConfigDrive({ format: 'nocloud', instanceId: 'bin', userData: binary }),
      tmp.path,
      'bin.iso',
      'iso9660',
    );
    const read = await cloudInitRead('nocloud', dir);
    expect(read['user-data']).toEqual({ base64: Buffer.from(binary).toString('base64') });
  });

  it('NoCloud meta-data with characters YAML 1.1 cannot carry raw round-trips through PyYAML', async () => {
    const awkward = 'del\u007f nel\u0085 c1\u0080\u009f ls\u2028 bom\ufeff nc\ufffe\uffff nbsp\u00a0 😀';
    const spec: ConfigDriveSpec = {
      format: 'nocloud',
      instanceId: 'iid-awkward-😀',
      metaData: { note: awkward, 'k\u0085ey': [awkward, { inner: awkward }] },
    };
    const dir = await extract(await buildConfigDrive(spec), tmp.path, 'awkward.iso', 'iso9660');
    const read = await cloudInitRead('nocloud', dir);
    expect(read['instance-id']).toBe('iid-awkward-😀');
    expect(read['meta-data']).toMatchObject({ note: awkward, 'k\u0085ey': [awkward, { inner: awkward }] });
  });

  it('refuses, naming the field, what cloud-init could not read back', async () => {
    await expect(buildConfigDrive({ format: 'nocloud', instanceId: 'i-\u0080x' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'spec.instanceId' },
    });
    await expect(
      buildConfigDrive({ format: 'ovf', instanceId: 'i-1', metaData: { seedfrom: 'a\u0001b' } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'spec.metaData.seedfrom' } });
    await expect(
      buildConfigDrive({ format: 'ovf', instanceId: 'i-1', publicKeys: ['ssh-ed25519 AAAA\u0007 me'] }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'spec.publicKeys[0]' } });
    await expect(
      buildConfigDrive({ format: 'ovf', instanceId: 'i-1', metaData: { note: 'x\uffff' } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'spec.metaData.note' } });
    await expect(
      buildConfigDrive({ format: 'ovf', instanceId: 'i-1', metaData: { note: 'x\ud800y' } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'spec.metaData.note' } });
  });

  it('OVF environment carries the XML 1.0 characters it may (C1, NEL, astral) to cloud-init', async () => {
    const text = 'nel\u0085 c1\u0080 tab\t nl\n nbsp\u00a0 😀 <&"\'>';
    const dir = await extract(
      await buildConfigDrive({ format: 'ovf', instanceId: 'iid-ovf-😀', metaData: { seedfrom: text } }),
      tmp.path,
      'ovf-awkward.iso',
      'iso9660',
    );
    const read = await cloudInitRead('ovf', dir);
    expect(read['instance-id']).toBe('iid-ovf-😀');
    expect(read.seedfrom).toBe(text);
  });

  it.each(['iso9660', 'vfat'] as const)(
    'OpenStack config-2 on %s: read_v2 finds metadata, keys, files, user, vendor and network data',
    async (filesystem) => {
      const network = {
        links: [{ id: 'eth0', type: 'phy', ethernet_mac_address: '52:54:00:12:34:56' }],
        networks: [{ id: 'n0', link: 'eth0', type: 'ipv4_dhcp' }],
        services: [],
      };
      const spec: ConfigDriveSpec = {
        format: 'openstack',
        filesystem,
        instanceId: '6f8b6a0e-0000-4000-8000-000000000001',
        hostname: 'node-2',
        userData,
        vendorData: '#cloud-config\nruncmd: [true]\n',
        networkConfig: network,
        publicKeys: keys,
        metaData: { dsmode: 'local', role: 'web' },
        files: [{ path: '/etc/motd', content: 'hello from config-2\n' }],
      };
      const dir = await extract(await buildConfigDrive(spec), tmp.path, `os.${filesystem}`, filesystem);
      const read = await cloudInitRead('openstack', dir);
      expect(read).toMatchObject({
        version: 2,
        'instance-id': '6f8b6a0e-0000-4000-8000-000000000001',
        'local-hostname': 'node-2',
        'public-keys': { 'key-0': keys[0], 'key-1': keys[1] },
        meta: { dsmode: 'local', role: 'web' },
        files: { '/etc/motd': 'hello from config-2\n' },
        random_seed_len: 512,
        'user-data': userData,
        'vendor-data': '#cloud-config\nruncmd: [true]\n',
        'network-data': network,
      });
      expect(read['ec2-metadata']).toMatchObject({
        'instance-id': spec.instanceId,
        'local-hostname': 'node-2',
      });
    },
  );

  it('OVF environment: read_ovf_environment finds instance-id, hostname, seedfrom, keys, user data and network config', async () => {
    const spec: ConfigDriveSpec = {
      format: 'ovf',
      instanceId: 'iid-ovf-1',
      hostname: 'node-3',
      userData,
      publicKeys: keys,
      networkConfig: v2,
      metaData: { seedfrom: 'http://10.0.2.2:8000/' },
    };
    const dir = await extract(await buildConfigDrive(spec), tmp.path, 'ovf.iso', 'iso9660');
    const read = await cloudInitRead('ovf', dir);
    expect(read).toEqual({
      'instance-id': 'iid-ovf-1',
      'local-hostname': 'node-3',
      seedfrom: 'http://10.0.2.2:8000/',
      'public-keys': keys.join('\n'),
      'user-data': userData,
      'network-config': v2,
    });
  });
});
