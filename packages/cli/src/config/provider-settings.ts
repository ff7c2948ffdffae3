import { isAbsolute, resolve } from 'node:path';
import { invalidArgument } from '@vmkit/core/spi';
import {
  type LibvirtProviderConfig,
  PROVIDER_TYPE_RULE,
  PROVIDER_TYPES,
  type ProviderConfig,
  type ProviderType,
  providerTypeOf,
  type VirtualBoxProviderConfig,
} from './provider-schema.js';

/** The libvirt connection a command runs with (`uri` always set). */
export interface LibvirtProviderSettings extends LibvirtProviderConfig {
  readonly type: 'libvirt';
  readonly uri: string;
}

/** The VirtualBox web service a command runs with (`url` always set). */
export interface VirtualBoxProviderSettings extends VirtualBoxProviderConfig {
  readonly url: string;
}

/** The hypervisor a command runs with: the provider's options plus `type`. */
export type ProviderSettings = LibvirtProviderSettings | VirtualBoxProviderSettings;

/** The flags that choose or configure the provider. */
export interface ProviderFlags {
  readonly provider?: string;
  readonly uri?: string;
  readonly pool?: string;
  readonly prefix?: string;
  readonly allowUriPrograms?: boolean;
}

/** vboxwebsrv's own default endpoint. */
export const DEFAULT_VBOX_URL = 'http://127.0.0.1:18083/';

/** libvirt's local system daemon. */
export const DEFAULT_LIBVIRT_URI = 'qemu:///system';

/** The provider type: `--provider`, else `VMKIT_PROVIDER`, else the config's `provider.type`, else libvirt. */
function chooseType(
  flags: ProviderFlags,
  env: NodeJS.ProcessEnv,
  config: ProviderConfig | undefined,
): ProviderType {
  const [source, value] =
    flags.provider !== undefined
      ? ['--provider', flags.provider]
      : env.VMKIT_PROVIDER
        ? ['VMKIT_PROVIDER', env.VMKIT_PROVIDER]
        : [undefined, undefined];
  if (source === undefined) return providerTypeOf(config) ?? 'libvirt';
  const type = PROVIDER_TYPES.find((t) => t === value);
  if (!type) throw invalidArgument(source, `${PROVIDER_TYPE_RULE} (got ${JSON.stringify(value)})`);
  return type;
}

/** `{ key: value }`, or `{}` when `value` is undefined (for optional fields under `exactOptionalPropertyTypes`). */
export function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * Resolves the provider: its type (`--provider`, `VMKIT_PROVIDER`, `provider.type`, libvirt),
 * then each field from its flag, its variable, the config file, in that order. The config's
 * provider fields apply only when it names the same type (they are another hypervisor's options
 * otherwise). A libvirt-only flag with VirtualBox is `INVALID_ARGUMENT` naming the flag.
 *
 * @param base - The directory relative paths of the config file are relative to.
 */
export function resolveProviderSettings(
  flags: ProviderFlags,
  env: NodeJS.ProcessEnv,
  config: ProviderConfig | undefined,
  base: string,
): ProviderSettings {
  const type = chooseType(flags, env, config);
  const file = config && providerTypeOf(config) === type ? config : {};
  const namePrefix = flags.prefix ?? env.VMKIT_NAME_PREFIX ?? (file.namePrefix as string | undefined);
  if (type === 'libvirt') {
    const own = file as LibvirtProviderConfig;
    return {
      ...own,
      type,
      uri: flags.uri ?? env.VMKIT_URI ?? own.uri ?? DEFAULT_LIBVIRT_URI,
      ...defined('pool', flags.pool ?? env.VMKIT_POOL ?? own.pool),
      ...defined('namePrefix', namePrefix),
      ...(flags.allowUriPrograms === true ? { allowUriPrograms: true } : {}),
    };
  }
  for (const [flag, given] of [
    ['--pool', flags.pool],
    ['--allow-uri-programs', flags.allowUriPrograms],
  ] as const) {
    if (given !== undefined)
      throw invalidArgument(flag, 'is a libvirt option, and the provider is virtualbox');
  }
  const own = file as Partial<VirtualBoxProviderConfig>;
  const folder = own.machineFolder;
  return {
    ...own,
    type,
    url: flags.uri ?? env.VMKIT_URI ?? own.url ?? DEFAULT_VBOX_URL,
    ...defined('username', env.VMKIT_VBOX_USER ?? own.username),
    ...defined('password', env.VMKIT_VBOX_PASSWORD ?? own.password),
    ...defined('namePrefix', namePrefix),
    ...defined('machineFolder', folder && !isAbsolute(folder) ? resolve(base, folder) : folder),
  };
}
