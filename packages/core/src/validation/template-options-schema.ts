import { z } from 'zod';
import type { TemplateOptions } from '../model/template.js';
import { dataVolumesSchema } from './data-volume-schema.js';
import { firmwareSchema } from './master-spec-schema.js';
import { networkSpecSchema } from './network-schema.js';
import { NODE_NAME_PATTERN } from './patterns.js';
import { sharedFoldersSchema } from './shared-folder-schema.js';

const text = (max: number, what: string) => z.string().max(max, `must be at most ${what}`);

const configDriveSchema = z.union([
  z.boolean(),
  z.strictObject({
    format: z.enum(['nocloud', 'openstack', 'ovf']).optional(),
    filesystem: z.enum(['iso9660', 'vfat']).optional(),
    vendorData: text(16 * 1024 * 1024, '16 MiB').optional(),
    networkConfig: z.union([text(1024 * 1024, '1 MiB'), z.record(z.string(), z.unknown())]).optional(),
    metaData: z.record(z.string(), z.unknown()).optional(),
    files: z
      .array(
        z.strictObject({
          path: z.string().min(1).max(1024),
          content: z.union([z.string(), z.instanceof(Uint8Array)]),
        }),
      )
      .max(1000)
      .optional(),
  }),
]);

/** Schema of {@link TemplateOptions}. */
export const templateOptionsSchema: z.ZodType<TemplateOptions> = z.strictObject({
  network: networkSpecSchema.optional(),
  inboundPorts: z
    .array(z.number().int().min(1, 'must be 1-65535').max(65535, 'must be 1-65535'))
    .max(64)
    .refine((ports) => new Set(ports).size === ports.length, 'must not repeat a port')
    .optional(),
  configDrive: configDriveSchema.optional(),
  userData: text(16 * 1024 * 1024, '16 MiB').optional(),
  authorizePublicKey: z
    .string()
    .regex(/^(ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+( .*)?$/, 'must be an OpenSSH public key line')
    .max(16384)
    .optional(),
  loginUser: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a POSIX user name')
    .optional(),
  tags: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.:=-]{0,62}$/, 'must be 1-63 of A-Z a-z 0-9 _ . : = -')
        .refine((tag) => !tag.startsWith('vmkit:'), "must not start with 'vmkit:' (vmkit's own marks)"),
    )
    .max(64)
    .optional(),
  userMetadata: z
    .record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'keys must be 1-63 of A-Z a-z 0-9 _ . -'),
      text(4096, '4096 characters'),
    )
    .refine((m) => Object.keys(m).length <= 64, 'at most 64 entries')
    .optional(),
  nodeNames: z
    .array(
      z
        .string()
        .regex(NODE_NAME_PATTERN, 'must be a host name: 1-63 of a-z, 0-9 and -, starting with a letter'),
    )
    .max(1000)
    .refine((names) => new Set(names).size === names.length, 'must not repeat a name')
    .optional(),
  linkedClone: z.boolean().optional(),
  ephemeral: z.boolean().optional(),
  dataVolumes: dataVolumesSchema.optional(),
  sharedFolders: sharedFoldersSchema.optional(),
  hardware: z
    .strictObject({
      cores: z.number().int().min(1).max(256).optional(),
      ramMiB: z
        .number()
        .int()
        .min(64)
        .max(4 * 1024 * 1024)
        .optional(),
      diskGiB: z.number().int().min(1).max(65536).optional(),
      firmware: firmwareSchema.optional(),
    })
    .optional(),
});
