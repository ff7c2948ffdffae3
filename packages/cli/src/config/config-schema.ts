import { invalidArgument } from '@vmkit/core/spi';
import { z } from 'zod';
import {
  foreignField,
  PROVIDER_TYPE_RULE,
  type ProviderConfig,
  providerSchema,
  providerTypeOf,
} from './provider-schema.js';

export type { ProviderConfig } from './provider-schema.js';

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
  /** The hypervisor: libvirt (`type` absent or `libvirt`) or VirtualBox (`type: 'virtualbox'`). */
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

/** The branch of a union a config's value chose: the store by its key, the provider by its type. */
function branchOf(path: readonly PropertyKey[], value: unknown): number | 'bad-type' {
  const section = (value as Record<string, unknown>)[String(path[0])];
  if (typeof section !== 'object' || section === null) return -1;
  if (path[0] === 'provider') {
    const type = providerTypeOf(section);
    return type === undefined ? 'bad-type' : type === 'libvirt' ? 0 : 1;
  }
  return 'dir' in section ? 0 : 's3' in section ? 1 : -1;
}

/** The issue to report: for a union (the store, the provider), the branch the value chose. */
function firstIssue(issues: readonly z.core.$ZodIssue[], value: unknown): z.core.$ZodIssue | undefined {
  const issue = issues[0];
  if (issue?.code !== 'invalid_union') return issue;
  const branch = branchOf(issue.path, value);
  if (branch === 'bad-type') return { ...issue, path: [...issue.path, 'type'], message: PROVIDER_TYPE_RULE };
  const chosen = branch === -1 ? undefined : issue.errors[branch]?.[0];
  if (!chosen)
    return { ...issue, message: issue.path[0] === 'store' ? 'must have "dir" or "s3"' : 'must be an object' };
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
  if (result.success) {
    const config = value as VmkitConfig;
    const foreign = config.provider && foreignField(config.provider);
    if (foreign) throw invalidArgument(`provider.${foreign.field}`, foreign.rule);
    return config;
  }
  const issue = firstIssue(result.error.issues, value);
  throw invalidArgument(issue ? fieldOf(issue) : '(top level)', issue?.message ?? 'is invalid');
}
