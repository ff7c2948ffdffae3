import { dirname, isAbsolute, resolve } from 'node:path';
import { invalidArgument, VmkitError } from '@vmkit/core/spi';
import { exists, findConfigFile, readConfigFile } from './config-file.js';
import { checkConfig, type S3StoreConfig, type VmkitConfig } from './config-schema.js';
import {
  defined,
  type ProviderFlags,
  type ProviderSettings,
  resolveProviderSettings,
} from './provider-settings.js';
import { findMissingSources, type MissingSource } from './source-paths.js';

/** The global flags that override the config file and the environment. */
export interface GlobalFlags extends ProviderFlags {
  readonly config?: string;
  readonly store?: string;
  readonly s3Bucket?: string;
  readonly s3Endpoint?: string;
}

/** What a command runs with: the config file, then `VMKIT_*` variables, then flags, resolved. */
export interface Settings {
  /** The config file used, if any. */
  readonly configFile?: string;
  /** The hypervisor: its `type` and its provider's options (libvirt's `uri` or VirtualBox's `url` always set). */
  readonly provider: ProviderSettings;
  /** The metadata store. */
  readonly store: { readonly dir: string } | { readonly s3: S3StoreConfig };
  /** Image specs, relative paths made absolute (against the config file's directory). */
  readonly images: readonly Record<string, unknown>[];
  /** Configured images whose source names a local file that is not there, by image id. */
  readonly missingSources?: Readonly<Record<string, MissingSource>>;
  /** Lease directory, when set. */
  readonly leaseDir?: string;
}

/** Environment variables read, with the flag each one stands for. */
export const ENVIRONMENT = Object.freeze({
  VMKIT_CONFIG: '--config',
  VMKIT_PROVIDER: '--provider',
  VMKIT_URI: '--uri',
  VMKIT_POOL: '--pool',
  VMKIT_NAME_PREFIX: '--prefix',
  VMKIT_STORE: '--store',
  VMKIT_S3_BUCKET: '--s3-bucket',
  VMKIT_S3_ENDPOINT: '--s3-endpoint',
  VMKIT_VBOX_USER: '(config provider.username, VirtualBox)',
  VMKIT_VBOX_PASSWORD: '(config provider.password, VirtualBox)',
  VMKIT_LEASE_DIR: '(config ports.leaseDir)',
});

/** Loads and merges the settings; a bad config file is `INVALID_ARGUMENT` naming the file, field and rule. */
export async function loadSettings(
  flags: GlobalFlags,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<Settings> {
  const explicit = flags.config ?? env.VMKIT_CONFIG;
  const configFile = explicit ? resolve(cwd, explicit) : await findConfigFile(cwd);
  let config: VmkitConfig = {};
  if (explicit && configFile && !(await exists(configFile))) {
    throw invalidArgument(
      `${flags.config !== undefined ? '--config' : 'VMKIT_CONFIG'} ${configFile}`,
      'does not exist: give the path of a vmkit.config.json or vmkit.config.mjs',
      { file: configFile },
    );
  }
  if (configFile) {
    try {
      config = checkConfig(await readConfigFile(configFile));
    } catch (error) {
      if (!VmkitError.is(error, 'INVALID_ARGUMENT') || error.message.startsWith(configFile)) throw error;
      throw invalidArgument(
        configFile,
        error.message,
        { ...error.details, file: configFile },
        { cause: error },
      );
    }
  }
  const base = configFile ? dirname(configFile) : cwd;
  const provider = resolveProviderSettings(flags, env, config.provider, base);
  const bucket = flags.s3Bucket ?? env.VMKIT_S3_BUCKET;
  const dir = flags.store ?? env.VMKIT_STORE;
  const fileStore = config.store;
  const store = bucket
    ? {
        s3: {
          ...(fileStore && 's3' in fileStore ? fileStore.s3 : {}),
          bucket,
          ...defined('endpoint', flags.s3Endpoint ?? env.VMKIT_S3_ENDPOINT),
        },
      }
    : dir
      ? { dir: resolve(cwd, dir) }
      : fileStore && 's3' in fileStore
        ? fileStore
        : { dir: resolve(base, fileStore?.dir ?? '.vmkit/store') };
  const leaseDir = env.VMKIT_LEASE_DIR
    ? resolve(cwd, env.VMKIT_LEASE_DIR)
    : config.ports?.leaseDir && resolve(base, config.ports.leaseDir);
  const images = (config.images ?? []).map((spec) => withAbsolutePaths(spec, base));
  return {
    ...(configFile ? { configFile } : {}),
    provider,
    store,
    images,
    missingSources: await findMissingSources(images),
    ...(leaseDir ? { leaseDir } : {}),
  };
}

/** Makes an image source's local paths absolute against `base` (URLs stay as they are). */
function withAbsolutePaths(spec: Record<string, unknown>, base: string): Record<string, unknown> {
  const source = spec.source;
  if (typeof source !== 'object' || source === null) return spec;
  const out: Record<string, unknown> = { ...(source as Record<string, unknown>) };
  for (const key of ['path', 'kernel', 'initrd']) {
    const v = out[key];
    if (typeof v === 'string' && v !== '' && !isAbsolute(v) && !/^[a-z]+:\/\//.test(v))
      out[key] = resolve(base, v);
  }
  return { ...spec, source: out };
}
