import { z } from 'zod';
import { SHARED_FOLDER_MAX_COUNT, type SharedFolder } from '../model/shared-folder.js';

/** No control characters (they would end a line of the guest's mount script or an XML attribute). */
const printable = (s: string) => ![...s].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
/** Absolute and normalised: `/`-separated names, none empty, `.` or `..`, no trailing `/`. */
const NORMALISED_ABSOLUTE = /^(\/(?!\.\.?(\/|$))[^/]+)+$/;

const absolutePath = (what: string) =>
  z
    .string()
    .max(4096, 'must be at most 4096 characters')
    .refine(printable, 'must not contain control characters')
    .regex(
      NORMALISED_ABSOLUTE,
      `must be an absolute, normalised path ${what}(no ., .. or empty components, no trailing /)`,
    );

const sharedFolderSchema = z.strictObject({
  hostPath: absolutePath('other than / '),
  guestPath: absolutePath('other than / '),
  readOnly: z.boolean().optional(),
});

/** Schema of a template's `sharedFolders`: at most {@link SHARED_FOLDER_MAX_COUNT}, each guest path once. */
export const sharedFoldersSchema: z.ZodType<readonly SharedFolder[]> = z
  .array(sharedFolderSchema)
  .max(SHARED_FOLDER_MAX_COUNT, `must have at most ${SHARED_FOLDER_MAX_COUNT} folders`)
  .superRefine((folders, ctx) => {
    const seen = new Map<string, number>();
    for (const [i, f] of folders.entries()) {
      const first = seen.get(f.guestPath);
      if (first === undefined) seen.set(f.guestPath, i);
      else
        ctx.addIssue({
          code: 'custom',
          path: [i, 'guestPath'],
          message: `must not repeat a guest path (${f.guestPath} is also sharedFolders[${first}].guestPath)`,
        });
    }
  });
