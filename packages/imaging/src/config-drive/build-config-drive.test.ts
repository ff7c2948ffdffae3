import type { ConfigDriveSpec } from '@vmkit/core';
import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { readFat } from '../fat/read/fat-reader.js';
import { readIso9660 } from '../iso9660/read/iso-reader.js';
import { buildConfigDrive, configDriveLayout } from './build-config-drive.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const binary = Uint8Array.from({ length: 256 }, (_, i) => i);

describe('buildConfigDrive', () => {
  it('writes a NoCloud cidata ISO whose user data is opaque bytes', async () => {
    const iso = await buildConfigDrive({
      format: 'nocloud',
      instanceId: 'i-1',
      hostname: 'node-1',
      userData: binary,
      publicKeys: ['ssh-ed25519 AAA k'],
    });
    const image = await readIso9660(iso);
    expect(image.volumeId).toBe('cidata');
    expect(image.files.map((f) => f.path)).toEqual(['meta-data', 'user-data']);
    expect(Buffer.from(await image.readFile('user-data')).equals(Buffer.from(binary))).toBe(true);
    expect(text(await image.readFile('meta-data'))).toBe(
      'instance-id: "i-1"\nlocal-hostname: "node-1"\npublic-keys: ["ssh-ed25519 AAA k"]\n',
    );
  });

  it('always writes user-data and meta-data, and vendor-data / network-config when given, on vfat too', async () => {
    const img = await buildConfigDrive({
      format: 'nocloud',
      filesystem: 'vfat',
      instanceId: 'i-2',
      vendorData: '#cloud-config\n',
      networkConfig: { version: 2, ethernets: { eth0: { dhcp4: true } } },
      files: [{ path: 'extra/readme.txt', content: 'hi' }],
    });
    const volume = await readFat(img);
    expect(volume.label).toBe('cidata');
    expect(
      volume.files
        .filter((f) => f.type === 'file')
        .map((f) => f.path)
        .sort(),
    ).toEqual(['extra/readme.txt', 'meta-data', 'network-config', 'user-data', 'vendor-data']);
    expect(text(await volume.readFile('user-data'))).toBe('');
    expect(text(await volume.readFile('network-config'))).toBe(
      'version: 2\nethernets: {"eth0": {"dhcp4": true}}\n',
    );
  });

  it('writes the OpenStack config-2 tree with every version, content files and ec2', async () => {
    const layout = configDriveLayout(
      {
        format: 'openstack',
        instanceId: 'uuid-1',
        hostname: 'h1',
        userData: 'ud',
        publicKeys: ['ssh-rsa AAA a'],
        files: [{ path: '/etc/motd', content: 'hello' }],
        networkConfig: { links: [], networks: [], services: [] },
        metaData: { role: 'db' },
      },
      { randomSeed: new Uint8Array(4) },
    );
    expect(layout.label).toBe('config-2');
    const paths = layout.entries.map((e) => e.path);
    expect(paths).toContain('openstack/latest/meta_data.json');
    expect(paths).toContain('openstack/2012-08-10/meta_data.json');
    expect(paths).toContain('openstack/2018-08-27/network_data.json');
    expect(paths).not.toContain('openstack/2013-04-04/network_data.json');
    expect(paths).toContain('openstack/content/0000');
    expect(paths).toContain('ec2/latest/meta-data.json');
    const meta = JSON.parse(
      layout.entries.find((e) => e.path === 'openstack/latest/meta_data.json')?.content as string,
    );
    expect(meta).toMatchObject({
      uuid: 'uuid-1',
      name: 'h1',
      hostname: 'h1',
      launch_index: 0,
      availability_zone: 'nova',
      public_keys: { 'key-0': 'ssh-rsa AAA a' },
      keys: [{ name: 'key-0', type: 'ssh', data: 'ssh-rsa AAA a' }],
      files: [{ path: '/etc/motd', content_path: '/content/0000' }],
      meta: { role: 'db' },
      random_seed: 'AAAAAA==',
    });
  });

  it('writes an OVF environment with escaped, base64 and multi-line properties', async () => {
    const iso = await buildConfigDrive({
      format: 'ovf',
      instanceId: 'a"<&>',
      hostname: 'h',
      userData: 'ud',
      publicKeys: ['k1', 'k2'],
    });
    const xml = text(await (await readIso9660(iso)).readFile('ovf-env.xml'));
    expect(xml).toContain('xmlns="http://schemas.dmtf.org/ovf/environment/1"');
    expect(xml).toContain('<Property oe:key="instance-id" oe:value="a&#34;&#60;&#38;&#62;"/>');
    expect(xml).toContain(`oe:key="user-data" oe:value="${Buffer.from('ud').toString('base64')}"`);
    expect(xml).toContain('oe:key="public-keys" oe:value="k1&#10;k2"');
  });

  it('refuses bad specs and limits, naming the field', async () => {
    const base: ConfigDriveSpec = { format: 'nocloud', instanceId: 'i' };
    const cases: Array<[ConfigDriveSpec, object, string]> = [
      [{ ...base, format: 'cloudstack' as 'nocloud' }, {}, 'spec.format'],
      [{ ...base, instanceId: '' }, {}, 'spec.instanceId'],
      [{ ...base, hostname: 'bad_host!' }, {}, 'spec.hostname'],
      [{ ...base, format: 'ovf', filesystem: 'vfat' }, {}, 'spec.filesystem'],
      [{ ...base, publicKeys: ['a\nb'] }, {}, 'spec.publicKeys[0]'],
      [{ ...base, metaData: { 'instance-id': 'x' } }, {}, 'spec.metaData.instance-id'],
      [{ ...base, files: [{ path: '../x', content: '' }] }, {}, 'spec.files[0].path'],
      [{ ...base, files: [{ path: 'user-data', content: '' }] }, {}, 'spec.files[0].path'],
      [
        { ...base, format: 'openstack', files: [{ path: 'relative', content: '' }] },
        {},
        'spec.files[0].path',
      ],
      [{ ...base, format: 'openstack', networkConfig: 'version: 2' }, {}, 'spec.networkConfig'],
      [{ ...base, userData: 'x'.repeat(2000) }, { maxBytes: 1000 }, 'spec.userData'],
      // Each copy fits; the eleven OpenStack copies do not: still the user data's fault.
      [{ ...base, format: 'openstack', userData: 'x'.repeat(2000) }, { maxBytes: 20_000 }, 'spec.userData'],
      [{ ...base, metaData: { big: 'x'.repeat(2000) } }, { maxBytes: 1000 }, 'spec'],
      [
        { ...base, filesystem: 'vfat', files: [{ path: 'META-DATA', content: 'x' }] },
        {},
        'spec.files[0].path',
      ],
      [
        { ...base, filesystem: 'vfat', files: [{ path: 'User-Data/x', content: 'x' }] },
        {},
        'spec.files[0].path',
      ],
      [
        {
          ...base,
          files: [
            { path: 'a', content: '' },
            { path: 'b', content: '' },
          ],
        },
        { maxFiles: 3 },
        'spec.files',
      ],
      [base, { maxBytes: 0 }, 'options.maxBytes'],
    ];
    for (const [spec, options, field] of cases) {
      const error = await buildConfigDrive(spec, options).catch((e: unknown) => e);
      expect(VmkitError.is(error, 'INVALID_ARGUMENT'), `${field}: ${String(error)}`).toBe(true);
      expect((error as VmkitError).details.field, String(error)).toBe(field);
    }
  });
});
