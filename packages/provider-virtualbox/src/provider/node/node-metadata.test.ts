import { NODE_RECORD_VERSION } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { guestInterfaces } from './guest-interfaces.js';
import { nodeStatus } from './machine-power.js';
import {
  describeNode,
  encodeNodeMeta,
  parseNodeMeta,
  readNodeMeta,
  type StoredNodeMeta,
} from './node-metadata.js';

const meta: StoredNodeMeta = {
  v: NODE_RECORD_VERSION,
  kind: 'node',
  name: 'web-1',
  group: 'web',
  imageId: 'img',
  master: 'vmkit-m-x',
  hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
  network: {
    nics: [
      {
        slot: 0,
        attachment: 'nat',
        mac: '52:54:00:00:00:01',
        portForwards: [
          { name: 'tcp-22', protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 2222, guestPort: 22 },
        ],
      },
    ],
  },
  tags: ['a'],
  userMetadata: { k: 'v' },
  linkedClone: true,
  createdAt: '2026-01-01T00:00:00.000Z',
  ext: { configDrive: '/var/lib/vmkit/machines/vmkit-web-1-config-0123456789abcdef.iso' },
};

// Written by vmkit before node records were shared with libvirt (VirtualBox's StoredNodeMeta, version 1), verbatim.
const OLD_V1 =
  '{"v":1,"kind":"node","name":"web-1","group":"web","imageId":"img","master":"vmkit-m-x",' +
  '"hardware":{"id":"micro","cores":1,"ramMiB":256,"diskGiB":1},"network":{"nics":[{"slot":0,' +
  '"attachment":"nat","mac":"52:54:00:00:00:01","portForwards":[{"name":"tcp-22","protocol":"tcp",' +
  '"hostIp":"127.0.0.1","hostPort":2222,"guestPort":22}]}]},"tags":["a"],"userMetadata":{"k":"v"},' +
  '"linkedClone":true,"createdAt":"2026-01-01T00:00:00.000Z",' +
  '"configDrive":"/var/lib/vmkit/machines/vmkit-web-1-config-0123456789abcdef.iso"}';

describe('node metadata', () => {
  it('round-trips through the extra-data JSON and refuses anything else', () => {
    expect(parseNodeMeta(encodeNodeMeta(meta), 'vmkit-web-1')).toEqual(meta);
    expect(parseNodeMeta('', 'vmkit-web-1')).toBeUndefined();
    expect(parseNodeMeta('{not json', 'vmkit-web-1')).toBeUndefined();
    expect(parseNodeMeta(JSON.stringify({ ...meta, kind: 'master' }), 'vmkit-web-1')).toBeUndefined();
    expect(parseNodeMeta(JSON.stringify({ ...meta, v: 3 }), 'vmkit-web-1')).toBeUndefined();
  });

  it('reads a version 1 record, the config drive moved to ext', () => {
    expect(readNodeMeta(OLD_V1, 'vmkit-web-1')).toEqual(meta);
    const { ext: _ext, ...withoutDrive } = meta;
    const oldWithout = JSON.parse(OLD_V1) as Record<string, unknown>;
    delete oldWithout.configDrive;
    expect(readNodeMeta(JSON.stringify(oldWithout), 'vmkit-web-1')).toEqual({ ...withoutDrive, ext: {} });
  });

  it.each([
    ['a relative config drive', { ext: { configDrive: '../../home/u/.ssh/id_rsa' } }, 'ext.configDrive'],
    ['an unnormalised config drive', { ext: { configDrive: '/vm/../etc/shadow' } }, 'ext.configDrive'],
    ['a field VirtualBox never writes', { ext: { disk: '/etc/passwd' } }, 'ext.disk'],
    [
      "a master's disk as its drive",
      { ext: { configDrive: '/var/lib/vmkit/machines/vmkit-m-x.vdi' } },
      'ext.configDrive',
    ],
    [
      "another node's drive",
      { ext: { configDrive: '/var/lib/vmkit/machines/vmkit-db-1-config-0123456789abcdef.iso' } },
      'ext.configDrive',
    ],
  ])('refuses %s with the field named', (_what, change, field) => {
    expect(() => readNodeMeta(JSON.stringify({ ...meta, ...change }), 'vmkit-web-1')).toThrow(
      expect.objectContaining({ code: 'CORRUPT', details: expect.objectContaining({ field }) }),
    );
  });

  it('describes a node with forward addresses as public and the addresses of its NICs (by MAC) as private', () => {
    const other = {
      name: 'docker0',
      mac: '02:42:00:00:00:09',
      addresses: [{ family: 'ipv4', address: '172.17.0.1', prefix: 16 }],
    } as const;
    const mine = {
      name: 'eth0',
      mac: '52:54:00:00:00:01',
      addresses: [{ family: 'ipv4', address: '10.0.2.15', prefix: 24 }],
    } as const;
    const node = describeNode('vmkit-web-1', meta, 'running', [other, mine]);
    expect(node).toMatchObject({
      id: 'vmkit-web-1',
      name: 'web-1',
      publicAddresses: ['127.0.0.1'],
      privateAddresses: ['10.0.2.15'],
      nicAddresses: [
        { slot: 0, mac: '52:54:00:00:00:01', addresses: ['10.0.2.15'], source: 'guest-properties' },
      ],
    });
    // Nothing reported (yet): the NIC is listed without addresses, none assumed.
    const quiet = describeNode('vmkit-web-1', meta, 'running', [other]);
    expect(quiet.privateAddresses).toEqual([]);
    expect(quiet.nicAddresses).toEqual([{ slot: 0, mac: '52:54:00:00:00:01' }]);
  });

  it('reads the interfaces Guest Additions report, in their order, ignoring other properties', () => {
    const props = new Map([
      ['/VirtualBox/GuestInfo/Net/1/V4/IP', '192.168.56.101'],
      ['/VirtualBox/GuestInfo/Net/1/V4/Netmask', '255.255.255.0'],
      ['/VirtualBox/GuestInfo/Net/1/MAC', '0800270000AB'],
      ['/VirtualBox/GuestInfo/Net/1/Status', 'Up'],
      ['/VirtualBox/GuestInfo/Net/0/V4/IP', '10.0.2.15'],
      ['/VirtualBox/GuestInfo/Net/0/V4/Netmask', '255.255.0.0'],
      ['/VirtualBox/GuestInfo/Net/0/MAC', '080027000001'],
      ['/VirtualBox/GuestInfo/Net/Count', '3'],
      ['/VirtualBox/GuestInfo/Net/2/V4/IP', '192.168.1.5'],
      ['/VirtualBox/GuestInfo/Net/2/Status', 'Down'],
      ['/VirtualBox/GuestInfo/OS/Product', 'Linux'],
    ]);
    expect(guestInterfaces(props)).toEqual([
      {
        name: 'net0',
        mac: '08:00:27:00:00:01',
        addresses: [{ family: 'ipv4', address: '10.0.2.15', prefix: 16 }],
      },
      {
        name: 'net1',
        mac: '08:00:27:00:00:ab',
        addresses: [{ family: 'ipv4', address: '192.168.56.101', prefix: 24 }],
      },
      { name: 'net2', addresses: [] },
    ]);
  });

  it.each([
    ['Running', 'running'],
    ['PoweredOff', 'stopped'],
    ['Paused', 'suspended'],
    ['Saved', 'suspended'],
    ['Aborted', 'error'],
    ['Starting', 'pending'],
    ['Stopping', 'pending'],
    ['Whatever', 'unknown'],
  ] as const)('machine state %s is %s', (state, status) => {
    expect(nodeStatus(state)).toBe(status);
  });
});
