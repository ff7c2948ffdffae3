import { randomBytes } from 'node:crypto';
import type { ConfigDriveSpec } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core/spi';
import type { MediaEntry } from '../media-entry.js';
import { fromUtf8 } from '../util/bytes.js';
import type { ConfigDriveLayout } from './config-drive-layout.js';
import { bytesOf } from './validate-spec.js';

/** Label OpenStack config drives carry and cloud-init's ConfigDrive datasource looks for. */
export const OPENSTACK_LABEL = 'config-2';

/** The metadata versions written besides `latest`, oldest first (as nova's config drive writes them). */
export const OPENSTACK_VERSIONS = [
  '2012-08-10',
  '2013-04-04',
  '2013-10-17',
  '2015-10-15',
  '2016-06-30',
  '2016-10-06',
  '2017-02-22',
  '2018-08-27',
] as const;

/** EC2-compatible metadata versions written under `ec2/`. */
export const EC2_VERSIONS = ['2009-04-04', 'latest'] as const;

const since = (version: string, first: string) => version === 'latest' || version >= first;

/**
 * The OpenStack config drive layout (`config-2`): `openstack/<version>/meta_data.json` for every
 * version and `latest`, `user_data`, `network_data.json` (2015-10-15 on), `vendor_data.json`
 * (2013-10-17 on), `vendor_data2.json` (2016-10-06 on), injected files under `openstack/content/`
 * listed in meta_data.json's `files`, and the `ec2/` tree. The spec's metaData becomes `meta`.
 */
export function openstackLayout(
  spec: ConfigDriveSpec,
  randomSeed: Uint8Array | undefined,
): ConfigDriveLayout {
  const keys = (spec.publicKeys ?? []).map((data, i) => ({ name: `key-${i}`, type: 'ssh', data }));
  const files = (spec.files ?? []).map((file, i) => ({
    path: guestPath(file.path, `spec.files[${i}].path`),
    content_path: `/content/${String(i).padStart(4, '0')}`,
    content: file.content,
  }));
  const zone = 'nova';
  const meta = {
    uuid: spec.instanceId,
    name: spec.hostname ?? spec.instanceId,
    ...(spec.hostname !== undefined ? { hostname: spec.hostname } : {}),
    launch_index: 0,
    availability_zone: zone,
    public_keys: Object.fromEntries(keys.map((k) => [k.name, k.data])),
    keys,
    files: files.map(({ path, content_path }) => ({ path, content_path })),
    meta: { ...spec.metaData },
    random_seed: Buffer.from(randomSeed ?? randomBytes(512)).toString('base64'),
    devices: [],
    project_id: '',
  };
  const metaJson = `${JSON.stringify(meta, null, 2)}\n`;
  const network = spec.networkConfig === undefined ? undefined : networkJson(spec.networkConfig);
  const vendor = spec.vendorData === undefined ? undefined : vendorJson(spec.vendorData);
  const entries: MediaEntry[] = [];
  for (const version of [...OPENSTACK_VERSIONS, 'latest']) {
    const dir = `openstack/${version}`;
    entries.push({ path: `${dir}/meta_data.json`, content: metaJson });
    if (spec.userData !== undefined) entries.push({ path: `${dir}/user_data`, content: spec.userData });
    if (network !== undefined && since(version, '2015-10-15'))
      entries.push({ path: `${dir}/network_data.json`, content: network });
    if (since(version, '2013-10-17'))
      entries.push({ path: `${dir}/vendor_data.json`, content: vendor ?? '{}\n' });
    if (since(version, '2016-10-06')) entries.push({ path: `${dir}/vendor_data2.json`, content: '{}\n' });
  }
  for (const file of files) entries.push({ path: `openstack${file.content_path}`, content: file.content });
  const ec2 = {
    'ami-launch-index': 0,
    'instance-id': spec.instanceId,
    ...(spec.hostname !== undefined ? { hostname: spec.hostname, 'local-hostname': spec.hostname } : {}),
    placement: { 'availability-zone': zone },
    'public-keys': Object.fromEntries(keys.map((k, i) => [String(i), { 'openssh-key': k.data }])),
    'reservation-id': '',
    'security-groups': [],
  };
  for (const version of EC2_VERSIONS) {
    entries.push({ path: `ec2/${version}/meta-data.json`, content: `${JSON.stringify(ec2, null, 2)}\n` });
    if (spec.userData !== undefined)
      entries.push({ path: `ec2/${version}/user-data`, content: spec.userData });
  }
  return { label: OPENSTACK_LABEL, filesystem: spec.filesystem ?? 'iso9660', entries };
}

function guestPath(path: string, field: string): string {
  if (!path.startsWith('/'))
    throw invalidArgument(field, 'OpenStack injected files need an absolute guest path');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0000-\u001f]/.test(path) || path.length > 4095)
    throw invalidArgument(field, 'must be at most 4095 characters without control characters');
  const parts = path.slice(1).split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw invalidArgument(field, 'must not contain empty, . or .. components');
  }
  return path;
}

function networkJson(config: string | Readonly<Record<string, unknown>>): string {
  if (typeof config !== 'string') return `${JSON.stringify(config, null, 2)}\n`;
  try {
    JSON.parse(config);
  } catch {
    throw invalidArgument(
      'spec.networkConfig',
      'the OpenStack layout needs network_data.json: give an object or a JSON string',
    );
  }
  return config;
}

/** vendor_data.json: JSON given as JSON is kept; any other text becomes a JSON string (cloud-config). */
function vendorJson(data: string | Uint8Array): string {
  const text = fromUtf8(bytesOf(data));
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) return text;
  } catch {
    // not JSON: wrap below
  }
  return `${JSON.stringify(text)}\n`;
}
