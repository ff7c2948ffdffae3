import { z } from 'zod';
import type { WarmSpec } from '../model/warm-spec.js';

const port = z.number().int().min(1, 'must be a port 1-65535').max(65535, 'must be a port 1-65535');

/** Schema of a {@link WarmSpec} (`MasterSpec.warm`). */
export const warmSpecSchema: z.ZodType<WarmSpec> = z.strictObject({
  until: z.union(
    [
      z.literal('agent'),
      z.literal('ssh'),
      z.strictObject({ port }),
      z.strictObject({
        http: z.string().regex(/^\/[\x21-\x7e]{0,1023}$/, 'must be a path starting with / (printable ASCII)'),
        port: port.optional(),
      }),
    ],
    { error: "must be 'agent', 'ssh', { port } or { http: path, port? }" },
  ),
  memory: z.literal('keep', { error: "must be 'keep'" }).optional(),
  timeoutMs: z
    .number()
    .int()
    .min(1000, 'must be 1 s to 1 hour')
    .max(3_600_000, 'must be 1 s to 1 hour')
    .optional(),
  resumeScript: z
    .string()
    .max(64 * 1024, 'must be at most 64 KiB')
    .optional(),
});
