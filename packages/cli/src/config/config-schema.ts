import { invalidArgument } from '@vmkit/core/spi';
import { z } from 'zod';

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

/** A strict object whose unknown keys are refused with the list of the known ones. */
function strict<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `is not a known field (known: ${known})`
        : issue.code === 'invalid_type'
          ? 'must be an object'
          : undefined,
  });
}

const NON_EMPTY = 'must be a non-empty string';
const text = () => z.string({ error: NON_EMPTY }).min(1, NON_EMPTY);
const flag = () => z.boolean({ error: 'must be true or false' });

const providerSchema = strict({
  uri: text()
    .regex(/^[a-z0-9+]+:\/\//, 'must be a libvirt URI such as qemu:///system')
    .describe('libvirt URI (default qemu:///system)')
    .optional(),
  pool: text().describe('libvirt storage pool (default vmkit)').optional(),
  poolPath: text().describe('directory of the pool, when vmkit has to make it').optional(),
  namePrefix: text()
    .regex(/^[A-Za-z0-9._-]{1,20}$/, 'must be 1-20 letters, digits, ".", "_" or "-"')
    .describe('prefix of every domain and volume name (default vmkit-)')
    .optional(),
  allowUriPrograms: flag()
    .describe('let uri choose programs to run (?command=, ?netcat=); the same as --allow-uri-programs')
    .optional(),
}).describe('the hypervisor (libvirt)');

const dirStoreSchema = strict({
  dir: text().describe('directory of the metadata store, relative to this file'),
});

const s3StoreSchema = strict({
  s3: strict({
    bucket: z.string({ error: 'is required' }).min(1, 'is required').describe('bucket name'),
    endpoint: text().describe('endpoint URL (S3-compatible servers)').optional(),
    region: text().optional(),
    prefix: text().describe('key prefix inside the bucket').optional(),
    forcePathStyle: flag().optional(),
  }),
});

/**
 * The schema of `vmkit.config.json`: what {@link checkConfig} validates with, and what
 * `schema/vmkit.config.schema.json` is generated from (image specs are checked by core).
 */
export const configSchema = strict({
  $schema: z.string().describe('the JSON Schema of this file, for editors').optional(),
  provider: providerSchema.optional(),
  store: z
    .union([dirStoreSchema, s3StoreSchema])
    .describe('where master metadata lives: a directory (default .vmkit/store) or an S3 bucket')
    .optional(),
  images: z
    .array(z.record(z.string(), z.unknown(), { error: 'must be an object' }), {
      error: 'must be an array of image specs',
    })
    .describe('master specs offered (MasterSpec: id, os, source, ...; see docs/imaging.md)')
    .optional(),
  ports: strict({
    leaseDir: text().describe('directory of the host-port lease files, relative to this file').optional(),
  }).optional(),
}).describe('vmkit command line configuration');

/** The field an issue is about: `a.b[0]`, plus the unknown key for an unknown-field issue. */
function fieldOf(issue: z.core.$ZodIssue): string {
  const path: PropertyKey[] = [...issue.path];
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(top level)';
}

/** The issue to report: for the store, the branch its key (`dir` or `s3`) chose. */
function firstIssue(issues: readonly z.core.$ZodIssue[], value: unknown): z.core.$ZodIssue | undefined {
  const issue = issues[0];
  if (issue?.code !== 'invalid_union') return issue;
  const store = (value as { store?: unknown }).store;
  const branch =
    typeof store === 'object' && store !== null ? ('dir' in store ? 0 : 's3' in store ? 1 : -1) : -1;
  const chosen = issue.errors[branch]?.[0];
  if (!chosen) return { ...issue, message: 'must have "dir" or "s3"' };
  return { ...chosen, path: [...issue.path, ...chosen.path] };
}

/**
 * Checks the shape of a config (not the image specs themselves: core checks those, naming
 * `images[i]`); throws `INVALID_ARGUMENT` naming the field and the rule.
 */
export function checkConfig(value: unknown): VmkitConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidArgument('(top level)', 'must be an object');
  const result = configSchema.safeParse(value);
  if (result.success) return value as VmkitConfig;
  const issue = firstIssue(result.error.issues, value);
  throw invalidArgument(issue ? fieldOf(issue) : '(top level)', issue?.message ?? 'is invalid');
}
