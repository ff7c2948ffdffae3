import { describe, expect, it } from 'vitest';
import type { CloneSpec } from './clone-spec.js';
import {
  type BuildRecord,
  NODE_RECORD_VERSION,
  type NodeRecord,
  newNodeRecord,
  nodeRecordCodec,
  recordedNode,
} from './node-record.js';
import { nodeRecordError, onlyKeys, recordObject } from './node-record-fields.js';

interface Ext {
  readonly disk: string;
}

const codec = nodeRecordCodec<Ext>({
  check(value, field) {
    const ext = recordObject(value, field);
    onlyKeys(ext, field, ['disk']);
    if (typeof ext.disk !== 'string' || !ext.disk.endsWith('.img'))
      throw nodeRecordError(`${field}.disk`, 'must end in .img');
    return { disk: ext.disk };
  },
  upgrade(old) {
    if (old.v !== 1) return undefined;
    const { disk, ...common } = old;
    return { ...common, v: NODE_RECORD_VERSION, ext: { disk } };
  },
});

const spec: CloneSpec = {
  name: 'web-1',
  group: 'web',
  imageId: 'debian-12',
  master: { id: 'vmkit-debian-12-0a1b2c3d-4e5f' },
  hardware: { id: 'small', name: 'Small', cores: 2, ramMiB: 1024, diskGiB: 10 },
  network: {
    nics: [
      {
        slot: 0,
        attachment: 'nat',
        mac: '52:54:00:aa:bb:cc',
        portForwards: [
          { name: 'tcp-22', protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 40022, guestPort: 22 },
          {
            name: 'udp-53',
            protocol: 'udp',
            hostIp: '::1',
            hostPort: 40053,
            guestIp: '10.0.2.15',
            guestPort: 53,
          },
        ],
      },
      { slot: 1, attachment: 'bridged', hostInterface: 'br0', mac: '52:54:00:aa:bb:cd', portForwards: [] },
    ],
  },
  linked: true,
  tags: ['vmkit:owner=0123456789abcdef', 'blue'],
  userMetadata: { team: 'infra', note: 'free <text> & more' },
};

const record: NodeRecord<Ext> = newNodeRecord(spec, {
  master: 'm.qcow2',
  linkedClone: true,
  ext: { disk: 'web-1.img' },
});
const build: BuildRecord = {
  v: NODE_RECORD_VERSION,
  kind: 'build',
  name: 'vmkit-install-x',
  imageId: 'debian-12',
  master: 'm.qcow2',
  role: 'installer',
  createdAt: '2026-01-01T00:00:00.000Z',
};

/** The record with `path` (dotted, numbers for array items) set to `value`, as a hostile writer would plant it. */
function planted(path: string, value: unknown): string {
  const copy = JSON.parse(codec.encode(record)) as Record<string, unknown>;
  const keys = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[keys.at(-1) as string] = value;
  return JSON.stringify(copy);
}

describe('nodeRecordCodec', () => {
  it('round-trips node and build records', () => {
    expect(codec.decode(codec.encode(record))).toEqual(record);
    expect(codec.decode(codec.encode(build))).toEqual(build);
    expect(record).toMatchObject({
      v: NODE_RECORD_VERSION,
      kind: 'node',
      master: 'm.qcow2',
      ext: { disk: 'web-1.img' },
    });
  });

  it('refuses versions it does not read, naming v', () => {
    const at = (v: unknown) => JSON.stringify({ ...record, v });
    expect(() => codec.decode(at(3))).toThrow(/node record: v is 3: written by a newer vmkit/);
    expect(() => codec.decode(at(0))).toThrow(/node record: v must be 2/);
    expect(() => codec.decode(at('2'))).toThrow(/node record: v must be 2/);
    const { v: _v, ...unversioned } = record;
    expect(() => codec.decode(JSON.stringify(unversioned))).toThrow(
      expect.objectContaining({ code: 'CORRUPT', details: { field: 'v', rule: 'must be 2' } }),
    );
  });

  it("upgrades a provider's old record and checks it as strictly", () => {
    const { ext, v: _v, ...common } = record;
    const old = { ...common, v: 1, disk: ext.disk };
    expect(codec.decode(JSON.stringify(old))).toEqual(record);
    expect(() => codec.decode(JSON.stringify({ ...old, disk: '/etc/passwd' }))).toThrow(
      /node record: ext.disk must end in .img/,
    );
  });

  it.each([
    ['v', 2.5, 'v'],
    ['kind', 'master', 'kind'],
    ['name', '../etc', 'name'],
    ['group', 'a b', 'group'],
    ['imageId', 'UPPER', 'imageId'],
    ['master', '/dev/sda', 'master'],
    ['hardware.cores', -1, 'hardware.cores'],
    ['hardware.gpu', 'yes', 'hardware.gpu'],
    ['network.nics.0.mac', 'not-a-mac', 'network.nics[0].mac'],
    ['network.nics.0.attachment', 'tap', 'network.nics[0].attachment'],
    ['network.nics.0.portForwards.0.hostIp', '127.0.0.1; rm -rf /', 'network.nics[0].portForwards[0].hostIp'],
    ['network.nics.0.portForwards.1.hostPort', 70000, 'network.nics[0].portForwards[1].hostPort'],
    ['network.nics.1.hostInterface', 'br0 && x', 'network.nics[1].hostInterface'],
    ['tags.1', 'a b', 'tags[1]'],
    ['userMetadata.team', 42, 'userMetadata.team'],
    ['linkedClone', 'yes', 'linkedClone'],
    ['createdAt', 'yesterday', 'createdAt'],
    ['ext.disk', '/etc/shadow', 'ext.disk'],
    ['ext.extra', 1, 'ext.extra'],
    ['evil', true, 'record.evil'],
  ])('refuses a record with a hostile %s, naming %s', (path, value, field) => {
    expect(() => codec.decode(planted(path, value))).toThrow(
      expect.objectContaining({ code: 'CORRUPT', details: expect.objectContaining({ field }) }),
    );
  });

  it("keeps a warm node's outcome (resumed, or booted cold and why) and describes the node with it", () => {
    const cold = newNodeRecord(spec, {
      master: 'm.qcow2',
      linkedClone: true,
      ext: { disk: 'web-1.img' },
      warm: { resumed: false, reason: `restoring the warm state failed: ${'x'.repeat(5000)}` },
    });
    const read = codec.decode(codec.encode(cold));
    expect(read).toEqual(cold);
    expect(read.kind === 'node' && read.warm?.reason?.length).toBe(1000);
    expect(recordedNode('vmkit-web-1', cold, 'running', []).warm).toEqual(cold.warm);
    const warm = newNodeRecord(spec, {
      master: 'm.qcow2',
      linkedClone: true,
      ext: { disk: 'web-1.img' },
      warm: { resumed: true },
    });
    expect(
      recordedNode('vmkit-web-1', codec.decode(codec.encode(warm)) as NodeRecord, 'running', []).warm,
    ).toEqual({ resumed: true });
    // A node of a cold call records nothing of it.
    expect(codec.encode(record)).not.toContain('warm');
  });

  it.each([
    [{ resumed: 'yes' }, 'warm.resumed'],
    [{ resumed: true, reason: 'x' }, 'warm.reason'],
    [{ resumed: false }, 'warm.reason'],
    [{ resumed: false, reason: 'x'.repeat(1001) }, 'warm.reason'],
    [{ resumed: true, extra: 1 }, 'warm.extra'],
    ['resumed', 'warm'],
  ])('refuses a hostile warm outcome %j, naming %s', (value, field) => {
    expect(() => codec.decode(planted('warm', value))).toThrow(
      expect.objectContaining({ code: 'CORRUPT', details: expect.objectContaining({ field }) }),
    );
  });

  it('refuses a __proto__ key in user metadata', () => {
    const text = codec.encode(record).replace('"team":', '"__proto__":{"polluted":true},"team":');
    expect(text).toContain('__proto__');
    expect(() => codec.decode(text)).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'userMetadata["__proto__"]' }) }),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses what is not a record', () => {
    expect(() => codec.decode('{oops')).toThrow(/node record: record must be JSON/);
    expect(() => codec.decode('[]')).toThrow(/node record: record must be an object/);
    expect(() => codec.decode(' '.repeat(1024 * 1024 + 1))).toThrow(/must be at most/);
    expect(() => codec.decode(JSON.stringify({ ...build, hardware: {} }))).toThrow(
      /node record: record.hardware is not a known field/,
    );
  });

  it('describes the node a record holds', () => {
    expect(recordedNode('vmkit-web-1', record, 'running', ['10.0.2.15'])).toEqual({
      id: 'vmkit-web-1',
      name: 'web-1',
      group: 'web',
      imageId: 'debian-12',
      master: record.master,
      status: 'running',
      hardware: spec.hardware,
      network: spec.network,
      publicAddresses: ['127.0.0.1', '::1'],
      privateAddresses: ['10.0.2.15'],
      tags: spec.tags,
      userMetadata: spec.userMetadata,
      linkedClone: true,
      createdAt: record.createdAt,
    });
  });
});
