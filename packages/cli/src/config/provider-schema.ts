import { z } from 'zod';

/** The hypervisors the command line can drive, as `provider.type` names them. */
export const PROVIDER_TYPES = Object.freeze(['libvirt', 'virtualbox'] as const);

/** One of {@link PROVIDER_TYPES}. */
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/** The rule a provider type breaks, as every place that reads one says it. */
export const PROVIDER_TYPE_RULE = `must be one of ${PROVIDER_TYPES.join(', ')}`;

/**
 * The libvirt connection a config names (`provider.type` absent or `libvirt`). Fields not listed
 * here are options of `libvirtProvider` too and reach it as they are; it checks them.
 */
export interface LibvirtProviderConfig {
  /** `libvirt`; a provider without `type` is libvirt (configs written before VirtualBox). */
  readonly type?: 'libvirt';
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
  /** Any other option of `libvirtProvider`. */
  readonly [option: string]: unknown;
}

/**
 * The VirtualBox web service a config names (`provider.type: 'virtualbox'`). Fields not listed
 * here are options of `virtualBoxProvider` too and reach it as they are; it checks them.
 */
export interface VirtualBoxProviderConfig {
  /** `virtualbox`. */
  readonly type: 'virtualbox';
  /** vboxwebsrv endpoint (default `http://127.0.0.1:18083/`). */
  readonly url?: string;
  /** User to log on as (default: none). */
  readonly username?: string;
  /** Password (`VMKIT_VBOX_PASSWORD` keeps it out of the file). */
  readonly password?: string;
  /** Prefix of every machine name (default `vmkit-`). */
  readonly namePrefix?: string;
  /** Folder of machines, disks and config drives, relative to the config file (default `~/.vmkit/virtualbox`). */
  readonly machineFolder?: string;
  /** Any other option of `virtualBoxProvider`. */
  readonly [option: string]: unknown;
}

/** The hypervisor a config names. */
export type ProviderConfig = LibvirtProviderConfig | VirtualBoxProviderConfig;

const NON_EMPTY = 'must be a non-empty string';
const text = () => z.string({ error: NON_EMPTY }).min(1, NON_EMPTY);
const PREFIX_RULE = 'must be 1-20 letters, digits, ".", "_" or "-"';

/**
 * A provider object: the fields the command line sets itself are checked here; the others are
 * the provider's own options, passed to its factory, which checks them (so an option a provider
 * gains needs no change here).
 */
function section<T extends z.ZodRawShape>(shape: T) {
  return z.looseObject(shape, { error: 'must be an object' });
}

const libvirtSchema = section({
  type: z
    .literal('libvirt', { error: PROVIDER_TYPE_RULE })
    .describe('the hypervisor (default libvirt)')
    .optional(),
  uri: text()
    .regex(/^[a-z0-9+]+:\/\//, 'must be a libvirt URI such as qemu:///system')
    .describe('libvirt URI (default qemu:///system)')
    .optional(),
  pool: text().describe('libvirt storage pool (default vmkit)').optional(),
  poolPath: text().describe('directory of the pool, when vmkit has to make it').optional(),
  namePrefix: text()
    .regex(/^[A-Za-z0-9._-]{1,20}$/, PREFIX_RULE)
    .describe('prefix of every domain and volume name (default vmkit-)')
    .optional(),
  allowUriPrograms: z
    .boolean({ error: 'must be true or false' })
    .describe('let uri choose programs to run (?command=, ?netcat=); the same as --allow-uri-programs')
    .optional(),
}).describe('libvirt (provider.type absent or "libvirt"); other libvirtProvider options pass through');

const virtualBoxSchema = section({
  type: z.literal('virtualbox', { error: PROVIDER_TYPE_RULE }).describe('the hypervisor'),
  url: text()
    .regex(/^https?:\/\//, 'must be an http(s) URL of vboxwebsrv, e.g. http://127.0.0.1:18083/')
    .describe('vboxwebsrv endpoint (default http://127.0.0.1:18083/)')
    .optional(),
  username: z.string({ error: 'must be a string' }).describe('vboxwebsrv user').optional(),
  password: z
    .string({ error: 'must be a string' })
    .describe('vboxwebsrv password (VMKIT_VBOX_PASSWORD keeps it out of this file)')
    .optional(),
  namePrefix: text()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/,
      'must be 1-32 letters, digits, ".", "_" or "-", starting with a letter or digit',
    )
    .describe('prefix of every machine name (default vmkit-)')
    .optional(),
  machineFolder: text()
    .describe(
      'folder of machines, disks and config drives, relative to this file (default ~/.vmkit/virtualbox)',
    )
    .optional(),
}).describe('VirtualBox (provider.type "virtualbox"); other virtualBoxProvider options pass through');

/** The `provider` section: libvirt or VirtualBox, chosen by `type` (absent: libvirt). */
export const providerSchema = z
  .union([libvirtSchema, virtualBoxSchema])
  .describe('the hypervisor: libvirt (type absent or "libvirt") or VirtualBox (type "virtualbox")');

/** Fields only one provider has: naming one under the other provider is a mistake worth a hint. */
const OWN_FIELDS: Readonly<Record<ProviderType, readonly string[]>> = {
  libvirt: ['uri', 'pool', 'poolPath', 'domainType', 'machine', 'sshBinary', 'allowUriPrograms', 'hostId'],
  virtualbox: ['url', 'username', 'password', 'machineFolder', 'osTypeId', 'lockRetries'],
};

/** The type a provider section names (absent: libvirt), or undefined when it names none we know. */
export function providerTypeOf(section: unknown): ProviderType | undefined {
  const type =
    typeof section === 'object' && section !== null ? (section as { type?: unknown }).type : undefined;
  if (type === undefined) return 'libvirt';
  return PROVIDER_TYPES.find((t) => t === type);
}

/**
 * The first field of a provider section that belongs to the other provider, with the rule saying
 * so (`url` under libvirt: "is a virtualbox option: set provider.type to virtualbox").
 */
export function foreignField(section: Record<string, unknown>): { field: string; rule: string } | undefined {
  const type = providerTypeOf(section);
  if (!type) return undefined;
  for (const other of PROVIDER_TYPES) {
    if (other === type) continue;
    const field = OWN_FIELDS[other].find((f) => f in section && !OWN_FIELDS[type].includes(f));
    if (field)
      return {
        field,
        rule: `is a ${other} option, and the provider is ${type} (set provider.type: "${other}")`,
      };
  }
  return undefined;
}
