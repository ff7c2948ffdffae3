import type { ConfigDriveSpec } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core/spi';
import { readInputFile } from '../runtime/input-file.js';

/** What `vmkit seed` was given, files not read yet. */
export interface SeedInput {
  readonly userData: string;
  readonly metaData?: string;
  readonly networkConfig?: string;
  readonly vendorData?: string;
  readonly hostname?: string;
  readonly dsmode?: string;
  readonly format: 'nocloud' | 'openstack' | 'ovf';
  readonly filesystem: 'iso9660' | 'vfat';
}

/** cloud-localds's instance id when no meta-data file is given. */
export const DEFAULT_INSTANCE_ID = 'iid-local01';

/**
 * Reads the files and makes the config drive spec the way `cloud-localds` lays out its seed: the
 * user data byte for byte; the meta-data file's keys (`instance-id`, `local-hostname` and
 * `public-keys` become the spec's fields, the rest its `metaData`), or, without one,
 * `instance-id: iid-local01` plus `--hostname` and `--dsmode`; network config and vendor data as given.
 */
export async function seedSpec(input: SeedInput): Promise<ConfigDriveSpec> {
  const userData = new Uint8Array(await readInputFile('--user-data', input.userData));
  let meta: Record<string, unknown> = { 'instance-id': DEFAULT_INSTANCE_ID };
  if (input.metaData !== undefined) {
    if (input.hostname !== undefined || input.dsmode !== undefined) {
      throw invalidArgument(
        '--hostname/--dsmode',
        'cannot be used with a meta-data file (put them in the file)',
      );
    }
    // js-yaml reads YAML 1.1 as cloud-init's PyYAML does, and loads in a third of the time of `yaml`.
    const { load } = await import('js-yaml');
    const text = (await readInputFile('--meta-data', input.metaData)).toString('utf8');
    let parsed: unknown;
    try {
      parsed = load(text);
    } catch (error) {
      throw invalidArgument(
        `meta-data ${input.metaData}`,
        `must be YAML (${(error as Error).message.split('\n')[0]})`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw invalidArgument(`meta-data ${input.metaData}`, 'must be a YAML mapping');
    }
    meta = parsed as Record<string, unknown>;
  } else {
    if (input.hostname !== undefined) meta['local-hostname'] = input.hostname;
    if (input.dsmode !== undefined) meta.dsmode = input.dsmode;
  }
  const {
    'instance-id': id = DEFAULT_INSTANCE_ID,
    'local-hostname': host,
    'public-keys': keys,
    ...rest
  } = meta;
  const where = input.metaData ? `meta-data ${input.metaData}` : 'meta-data';
  if (typeof id !== 'string' && typeof id !== 'number')
    throw invalidArgument(`${where}: instance-id`, 'must be a string');
  if (host !== undefined && typeof host !== 'string')
    throw invalidArgument(`${where}: local-hostname`, 'must be a string');
  const publicKeys = typeof keys === 'string' ? [keys] : keys;
  if (
    publicKeys !== undefined &&
    !(Array.isArray(publicKeys) && publicKeys.every((k) => typeof k === 'string'))
  ) {
    throw invalidArgument(`${where}: public-keys`, 'must be a string or a list of strings');
  }
  return {
    format: input.format,
    filesystem: input.filesystem,
    instanceId: String(id),
    ...(host !== undefined ? { hostname: host } : {}),
    ...(publicKeys !== undefined ? { publicKeys } : {}),
    ...(Object.keys(rest).length > 0 ? { metaData: rest } : {}),
    userData,
    ...(input.networkConfig !== undefined
      ? { networkConfig: (await readInputFile('--network-config', input.networkConfig)).toString('utf8') }
      : {}),
    ...(input.vendorData !== undefined
      ? { vendorData: new Uint8Array(await readInputFile('--vendor-data', input.vendorData)) }
      : {}),
  };
}
