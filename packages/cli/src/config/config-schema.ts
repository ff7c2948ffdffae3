import { invalidArgument } from '@vmkit/core/spi';

/** The libvirt connection a config names. */
export interface ProviderConfig {
  /** libvirt URI (default `qemu:///system`). */
  readonly uri?: string;
  /** Storage pool (default `vmkit`). */
  readonly pool?: string;
  /** Pool directory when it has to be made. */
  readonly poolPath?: string;
  /** Prefix of every domain and volume name (default `vmkit-`). */
  readonly namePrefix?: string;
  /**
   * Let `uri` choose programs to run (`?command=`, `?netcat=`; default false: such a URI is
   * refused). The same as the `--allow-uri-programs` flag.
   */
  readonly allowUriPrograms?: boolean;
}

/** An S3 bucket holding master metadata. */
export interface S3StoreConfig {
  readonly bucket: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly prefix?: string;
  readonly forcePathStyle?: boolean;
}

/** What `vmkit.config.json` (or the default export of `vmkit.config.mjs`) holds. */
export interface VmkitConfig {
  /** The hypervisor (libvirt). */
  readonly provider?: ProviderConfig;
  /** Where master metadata lives: a directory (default `.vmkit/store`) or an S3 bucket. */
  readonly store?: { readonly dir: string } | { readonly s3: S3StoreConfig };
  /** Master specs offered (`MasterSpec`s; core checks each). */
  readonly images?: readonly Record<string, unknown>[];
  /** Directory of host-port lease files. */
  readonly ports?: { readonly leaseDir?: string };
}

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(value: Obj, field: string, keys: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key))
      throw invalidArgument(
        field ? `${field}.${key}` : key,
        `is not a known field (known: ${keys.join(', ')})`,
      );
  }
}

function optionalString(value: Obj, field: string, key: string, rule?: RegExp, ruleText?: string): void {
  const v = value[key];
  if (v === undefined) return;
  if (typeof v !== 'string' || v === '')
    throw invalidArgument(`${field}.${key}`, 'must be a non-empty string');
  if (rule && !rule.test(v)) throw invalidArgument(`${field}.${key}`, ruleText ?? `must match ${rule}`);
}

/**
 * Checks the shape of a config (not the image specs themselves: core checks those, naming
 * `images[i]`); throws `INVALID_ARGUMENT` naming the field and the rule.
 */
export function checkConfig(value: unknown): VmkitConfig {
  if (!isObject(value)) throw invalidArgument('(top level)', 'must be an object');
  only(value, '', ['$schema', 'provider', 'store', 'images', 'ports']);
  const { provider, store, images, ports } = value;
  if (provider !== undefined) {
    if (!isObject(provider)) throw invalidArgument('provider', 'must be an object');
    only(provider, 'provider', ['uri', 'pool', 'poolPath', 'namePrefix', 'allowUriPrograms']);
    if (provider.allowUriPrograms !== undefined && typeof provider.allowUriPrograms !== 'boolean')
      throw invalidArgument('provider.allowUriPrograms', 'must be true or false');
    optionalString(
      provider,
      'provider',
      'uri',
      /^[a-z0-9+]+:\/\//,
      'must be a libvirt URI such as qemu:///system',
    );
    optionalString(provider, 'provider', 'pool');
    optionalString(provider, 'provider', 'poolPath');
    optionalString(
      provider,
      'provider',
      'namePrefix',
      /^[A-Za-z0-9._-]{1,20}$/,
      'must be 1-20 letters, digits, ".", "_" or "-"',
    );
  }
  if (store !== undefined) {
    if (!isObject(store)) throw invalidArgument('store', 'must be an object');
    if ('dir' in store) {
      only(store, 'store', ['dir']);
      optionalString(store, 'store', 'dir');
    } else if ('s3' in store) {
      only(store, 'store', ['s3']);
      const s3 = store.s3;
      if (!isObject(s3)) throw invalidArgument('store.s3', 'must be an object');
      only(s3, 'store.s3', ['bucket', 'endpoint', 'region', 'prefix', 'forcePathStyle']);
      if (typeof s3.bucket !== 'string' || s3.bucket === '')
        throw invalidArgument('store.s3.bucket', 'is required');
      for (const key of ['endpoint', 'region', 'prefix']) optionalString(s3, 'store.s3', key);
      if (s3.forcePathStyle !== undefined && typeof s3.forcePathStyle !== 'boolean') {
        throw invalidArgument('store.s3.forcePathStyle', 'must be true or false');
      }
    } else {
      throw invalidArgument('store', 'must have "dir" or "s3"');
    }
  }
  if (images !== undefined) {
    if (!Array.isArray(images)) throw invalidArgument('images', 'must be an array of image specs');
    for (const [i, spec] of images.entries())
      if (!isObject(spec)) throw invalidArgument(`images[${i}]`, 'must be an object');
  }
  if (ports !== undefined) {
    if (!isObject(ports)) throw invalidArgument('ports', 'must be an object');
    only(ports, 'ports', ['leaseDir']);
    optionalString(ports, 'ports', 'leaseDir');
  }
  return value as VmkitConfig;
}
