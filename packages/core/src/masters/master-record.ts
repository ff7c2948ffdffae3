import { z } from 'zod';
import type { MasterSpec } from '../model/master-spec.js';
import type { MasterRef } from '../spi/master-build.js';
import { imageIdSchema, masterSpecSchema } from '../validation/master-spec-schema.js';

/** The version of the persisted master metadata this code writes and reads. */
export const MASTER_RECORD_SCHEMA_VERSION = 1;

/** The JSON metadata persisted for each built master, one blob per master. */
export interface MasterRecord {
  /** Always {@link MASTER_RECORD_SCHEMA_VERSION}. */
  readonly schemaVersion: 1;
  /** The image id. */
  readonly imageId: string;
  /** Hash of the canonical spec it was built from. */
  readonly specHash: string;
  /** The spec it was built from. */
  readonly spec: MasterSpec;
  /** The provider's handle on the master. */
  readonly master: MasterRef;
  /** Identity of the provider that built it. */
  readonly providerId: string;
  /** When it was built (ISO 8601). */
  readonly builtAt: string;
  /** How long the build took, in milliseconds. */
  readonly buildMs: number;
  /** Masters of earlier specs kept because nodes may still use them; deleted when none do. */
  readonly retired?: readonly MasterRef[];
}

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
  spec: masterSpecSchema,
  master: masterRefSchema,
  providerId: z.string().min(1).max(1024),
  builtAt: z.iso.datetime({ error: 'must be an ISO 8601 date-time' }),
  buildMs: z.number().nonnegative(),
  retired: z.array(masterRefSchema).max(1000).optional(),
});

/** The blob name of an image's metadata. */
export function masterBlobName(imageId: string): string {
  return `${imageId}.json`;
}
