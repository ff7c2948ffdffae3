import { z } from 'zod';
import {
  DATA_VOLUME_MAX_COUNT,
  DATA_VOLUME_MAX_MIB,
  type DataVolumeSpec,
} from '../model/data-volume-spec.js';

const FAT_LABEL = /^[\x21-\x7e][\x20-\x7e]{0,10}$/;
const FAT_LABEL_FORBIDDEN = /["*+,./:;<=>?[\\\]|]/;
const SAFE_PATH = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[^\0\\]{1,255}$/;

const dataVolumeSchema = z
  .strictObject({
    sizeMiB: z
      .number()
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(DATA_VOLUME_MAX_MIB, `must be at most ${DATA_VOLUME_MAX_MIB} (1 TiB)`),
    format: z.literal('raw', 'must be raw (the only data volume format)').optional(),
    filesystem: z.literal('vfat', 'must be vfat (or left out for a blank volume)').optional(),
    label: z
      .string()
      .regex(FAT_LABEL, 'must be 1-11 printable ASCII characters, not starting with a space')
      .refine((l) => !FAT_LABEL_FORBIDDEN.test(l), 'must not contain " * + , . / : ; < = > ? [ \\ ] |')
      .optional(),
    files: z
      .record(z.string(), z.union([z.string(), z.instanceof(Uint8Array)], 'must be a string or a Uint8Array'))
      .refine((f) => Object.keys(f).length <= 1000, 'must have at most 1000 files')
      .superRefine((files, ctx) => {
        for (const path of Object.keys(files)) {
          if (!SAFE_PATH.test(path)) {
            ctx.addIssue({
              code: 'custom',
              path: [path],
              message: 'file paths must be relative, without . or .. components, at most 255 characters',
            });
          }
        }
      })
      .optional(),
    content: z.union([z.string(), z.instanceof(Uint8Array)], 'must be a string or a Uint8Array').optional(),
  })
  .superRefine((v, ctx) => {
    for (const key of ['label', 'files'] as const) {
      if (v[key] !== undefined && v.filesystem === undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'needs filesystem: vfat' });
      }
    }
    if (v.content === undefined) return;
    if (v.filesystem !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['content'],
        message: 'is for volumes without a filesystem (use files)',
      });
    }
    const bytes = typeof v.content === 'string' ? Buffer.byteLength(v.content) : v.content.length;
    if (bytes > v.sizeMiB * 1024 * 1024) {
      ctx.addIssue({
        code: 'custom',
        path: ['content'],
        message: `is ${bytes} bytes, larger than the ${v.sizeMiB} MiB volume`,
      });
    }
  });

/** Schema of a template's `dataVolumes`. */
export const dataVolumesSchema: z.ZodType<readonly DataVolumeSpec[]> = z
  .array(dataVolumeSchema)
  .max(DATA_VOLUME_MAX_COUNT, `must have at most ${DATA_VOLUME_MAX_COUNT} volumes`);
