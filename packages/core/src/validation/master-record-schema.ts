import { z } from 'zod';
import { MASTER_RECORD_SCHEMA_VERSION, type MasterRecord } from '../masters/master-record.js';
import { imageIdSchema, storedMasterSpecSchema } from './master-spec-schema.js';

const masterRefSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(255)
    .refine((id) => !/[/\\]/.test(id) && !id.includes('\u0000'), 'must not contain slashes or NUL'),
  data: z.record(z.string(), z.unknown()).optional(),
});

/** Schema of a {@link MasterRecord}: persisted metadata is untrusted input. */
export const masterRecordSchema: z.ZodType<MasterRecord> = z.strictObject({
  schemaVersion: z.literal(MASTER_RECORD_SCHEMA_VERSION, {
    error: `must be ${MASTER_RECORD_SCHEMA_VERSION}`,
  }),
  imageId: imageIdSchema,
  specHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest'),
  spec: storedMasterSpecSchema,
  master: masterRefSchema,
  providerId: z.string().min(1).max(1024),
  builtAt: z.iso.datetime({ error: 'must be an ISO 8601 date-time' }),
  buildMs: z.number().nonnegative(),
  retired: z.array(masterRefSchema).max(1000).optional(),
  warm: z
    .strictObject({
      state: masterRefSchema,
      savedAt: z.iso.datetime({ error: 'must be an ISO 8601 date-time' }),
      stateBytes: z.number().int().nonnegative(),
      hardware: z.strictObject({
        cores: z.number().int().min(1).max(256),
        ramMiB: z
          .number()
          .int()
          .min(64)
          .max(4 * 1024 * 1024),
      }),
      stale: z.literal(true).optional(),
      sshHostKeyTypes: z
        .array(z.enum(['rsa', 'ecdsa', 'ed25519']))
        .max(3)
        .optional(),
      sshdRereadsHostKeys: z.literal(true).optional(),
    })
    .optional(),
  origin: z.strictObject({ node: z.string().min(1).max(255), imageId: imageIdSchema }).optional(),
  signature: z
    .string()
    .regex(/^hmac-sha256:[0-9a-f]{64}$/, 'must be hmac-sha256: and 64 hex digits')
    .optional(),
});
