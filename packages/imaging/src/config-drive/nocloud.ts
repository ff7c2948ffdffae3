import type { ConfigDriveSpec } from '@vmkit/core';
import type { MediaEntry } from '../media-entry.js';
import { addDriveFiles, type ConfigDriveLayout } from './config-drive-layout.js';
import { toFlowYaml } from './flow-yaml.js';
import { checkReservedKeys } from './validate-spec.js';

/** Label cloud-init's NoCloud datasource looks for. */
export const NOCLOUD_LABEL = 'cidata';

/**
 * The cloud-init NoCloud layout: `meta-data` (instance-id, local-hostname, public-keys, then the
 * spec's metaData keys, as YAML) and `user-data` (the user data bytes, empty when none) always;
 * `network-config` and `vendor-data` when given; extra files at their drive paths.
 */
export function nocloudLayout(spec: ConfigDriveSpec): ConfigDriveLayout {
  checkReservedKeys(spec.metaData, {
    'instance-id': 'spec.instanceId',
    'local-hostname': 'spec.hostname',
    'public-keys': 'spec.publicKeys',
  });
  const meta: Record<string, unknown> = {
    'instance-id': spec.instanceId,
    ...(spec.hostname !== undefined ? { 'local-hostname': spec.hostname } : {}),
    ...(spec.publicKeys && spec.publicKeys.length > 0 ? { 'public-keys': [...spec.publicKeys] } : {}),
    ...spec.metaData,
  };
  const entries: MediaEntry[] = [
    { path: 'meta-data', content: toFlowYaml(meta) },
    { path: 'user-data', content: spec.userData ?? '' },
  ];
  if (spec.networkConfig !== undefined) {
    const net = spec.networkConfig;
    entries.push({ path: 'network-config', content: typeof net === 'string' ? net : toFlowYaml(net) });
  }
  if (spec.vendorData !== undefined) entries.push({ path: 'vendor-data', content: spec.vendorData });
  const filesystem = spec.filesystem ?? 'iso9660';
  addDriveFiles(entries, spec.files, filesystem);
  return { label: NOCLOUD_LABEL, filesystem, entries };
}
