import { NODE_RECORD_VERSION } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { xmlEscape } from '../xml/xml-text.js';
import {
  type LibvirtRecord,
  readNodeMetadata,
  readNodeRecord,
  renderBuildDomainMetadata,
  renderNodeMetadata,
  VMKIT_METADATA_NAMESPACE,
} from './node-metadata.js';

/** A domain's XML carrying `json` as vmkit's metadata, as a writer of the domain could plant it. */
const domainWith = (name: string, json: string) =>
  `<domain type="kvm"><name>${name}</name><metadata><vmkit:node xmlns:vmkit="${VMKIT_METADATA_NAMESPACE}">${xmlEscape(json)}</vmkit:node></metadata></domain>`;

// Written by vmkit before node records were versioned (libvirt's StoredNodeMetadata), verbatim.
const OLD_NODE = {
  kind: 'node',
  name: 'web-1',
  group: 'web',
  imageId: 'debian-12',
  hardware: { id: 'small', name: 'Small', cores: 1, ramMiB: 1024, diskGiB: 10 },
  network: {
    nics: [
      {
        slot: 0,
        attachment: 'nat',
        mac: '52:54:00:12:34:56',
        portForwards: [
          { name: 'tcp-22', protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 40022, guestPort: 22 },
        ],
      },
    ],
  },
  tags: ['vmkit:owner=0123456789abcdef'],
  userMetadata: { team: 'infra' },
  linkedClone: true,
  createdAt: '2026-03-01T10:00:00.000Z',
  volumes: ['vmkit-web-1.qcow2', 'vmkit-web-1-config.iso', 'vmkit-web-1-data0.img'],
  master: 'vmkit-m-vmkit-debian-12-0a1b2c3d-4e5f.qcow2',
};
const OLD_INSTALLER = {
  kind: 'installer',
  name: 'vmkit-install-vmkit-debian-12-0a1b2c3d-4e5f',
  group: '',
  imageId: 'debian-12',
  hardware: { id: 'post-install', cores: 1, ramMiB: 256, diskGiB: 1 },
  network: { nics: [] },
  tags: [],
  userMetadata: {},
  linkedClone: false,
  createdAt: '2026-03-01T09:00:00.000Z',
  volumes: [],
  master: 'vmkit-m-vmkit-debian-12-0a1b2c3d-4e5f.qcow2',
};

describe('libvirt node records', () => {
  it('reads a node record written before records were versioned', () => {
    const { volumes, ...common } = OLD_NODE;
    expect(readNodeRecord(domainWith('vmkit-web-1', JSON.stringify(OLD_NODE)))).toEqual({
      ...common,
      v: NODE_RECORD_VERSION,
      ext: { volumes },
    });
  });

  it('reads an installer record written before records were versioned as a build record', () => {
    expect(readNodeRecord(domainWith(OLD_INSTALLER.name, JSON.stringify(OLD_INSTALLER)))).toEqual({
      v: NODE_RECORD_VERSION,
      kind: 'build',
      name: OLD_INSTALLER.name,
      imageId: 'debian-12',
      master: OLD_INSTALLER.master,
      role: 'post-install',
      createdAt: OLD_INSTALLER.createdAt,
    });
  });

  it('round-trips a build domain record', () => {
    const xml = `<domain><name>vmkit-install-x</name><metadata>${renderBuildDomainMetadata('vmkit-install-x', 'img', 'v.qcow2', 'installer')}</metadata></domain>`;
    expect(readNodeRecord(xml)).toMatchObject({ kind: 'build', role: 'installer', master: 'v.qcow2' });
  });

  it.each([
    ['a volume of another domain', { volumes: ['vmkit-db-1.qcow2'] }, 'ext.volumes[0]'],
    ['a master volume', { volumes: ['vmkit-web-1.qcow2', 'vmkit-m-x.qcow2'] }, 'ext.volumes[1]'],
    ['a path', { volumes: ['../../etc/passwd'] }, 'ext.volumes[0]'],
    ['a field libvirt never writes', { pool: 'default' }, 'ext.pool'],
  ])('refuses a record naming %s, with the field named', (_what, ext, field) => {
    const { volumes: _v, ...common } = OLD_NODE;
    const xml = domainWith('vmkit-web-1', JSON.stringify({ ...common, v: NODE_RECORD_VERSION, ext }));
    expect(() => readNodeRecord(xml)).toThrow(
      expect.objectContaining({ code: 'CORRUPT', details: expect.objectContaining({ field }) }),
    );
    // Listing reads such a domain as not vmkit's.
    expect(readNodeMetadata(xml)).toBeUndefined();
  });

  it('refuses a build record whose name is not its domain', () => {
    const xml = domainWith('vmkit-web-1', JSON.stringify(OLD_INSTALLER));
    expect(() => readNodeRecord(xml)).toThrow(/node record: name must be the domain's name vmkit-web-1/);
  });

  it("keeps a warm node's cold fallback in the domain, so every later look reports it", () => {
    const { volumes, ...common } = OLD_NODE;
    const record = {
      ...common,
      v: NODE_RECORD_VERSION,
      ext: { volumes },
      warm: { resumed: false, reason: 'restoring the warm state failed: incompatible' },
    } as unknown as LibvirtRecord;
    const xml = `<domain type="kvm"><name>vmkit-web-1</name><metadata>${renderNodeMetadata(record)}</metadata></domain>`;
    expect(readNodeRecord(xml)).toEqual(record);
  });

  it('writes the current version', () => {
    const xml = renderBuildDomainMetadata('d', 'img', 'v', 'installer');
    expect(xml).toContain(`&quot;v&quot;:${NODE_RECORD_VERSION}`);
  });
});
