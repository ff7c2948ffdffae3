import { z } from 'zod';
import type { InstallFinished, UnattendedAnswers } from '../model/unattended.js';
import { ANSWER_PLACEHOLDERS, unknownPlaceholders, usesPlaceholder } from '../unattended/answer-template.js';
import { parseBootCommand } from '../unattended/boot-command.js';

/** Answer file names: letters, digits, `.`, `_`, `-`; no `/`, no `..`. */
const ANSWER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Why an answer file name is refused, or undefined when it is good. */
function badAnswerName(name: string): string | undefined {
  if (!ANSWER_NAME.test(name)) return "must be 1-64 of letters, digits, '.', '_' and '-' (no '/')";
  if (name === '.' || name.includes('..')) return "must not be '.' or hold '..'";
  return undefined;
}

const fileBody = z.union(
  [
    z.string().max(1024 * 1024, 'must be at most 1 MiB'),
    z.strictObject({
      path: z
        .string()
        .min(1)
        .max(4096)
        .refine((p) => !p.includes('\u0000'), 'must not contain NUL'),
    }),
  ],
  { error: 'must be the content (a string) or { path }' },
);

/** Schema of {@link UnattendedAnswers} (what each source may take is checked by {@link unattendedSourceIssues}). */
export const unattendedSchema: z.ZodType<UnattendedAnswers> = z
  .strictObject({
    files: z
      .record(z.string(), fileBody)
      .refine((files) => Object.keys(files).length > 0, 'must hold at least one file')
      .refine((files) => Object.keys(files).length <= 64, 'must hold at most 64 files'),
    delivery: z
      .array(
        z.enum(['http', 'iso', 'initrd', 'drive'], { error: "must be 'http', 'iso', 'initrd' or 'drive'" }),
      )
      .min(1, 'must name at least one delivery')
      .refine((d) => new Set(d).size === d.length, 'must not name a delivery twice'),
    driveLabel: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,16}$/, "must be 1-16 of letters, digits, '_' and '-'")
      .optional(),
  })
  .superRefine((answers, ctx) => {
    for (const [name, body] of Object.entries(answers.files)) {
      const badName = badAnswerName(name);
      if (badName) ctx.addIssue({ code: 'custom', path: ['files', name], message: `name ${badName}` });
      if (typeof body !== 'string') continue;
      for (const unknown of unknownPlaceholders(body))
        ctx.addIssue({
          code: 'custom',
          path: ['files', name],
          message: `{{${unknown}}} is not a placeholder vmkit knows (http, hostname, user, publicKey, passwordHash)`,
        });
      if (usesPlaceholder(body, 'http') && !answers.delivery.includes('http'))
        ctx.addIssue({
          code: 'custom',
          path: ['files', name],
          message: "uses {{http}} but delivery has no 'http'",
        });
    }
    if (answers.driveLabel !== undefined && !answers.delivery.includes('drive'))
      ctx.addIssue({ code: 'custom', path: ['driveLabel'], message: "is given but delivery has no 'drive'" });
  });

/**
 * Schema of {@link InstallFinished}: `'poweroff'`, `{ port }` (1-65535) or `{ call }` (a name
 * following the answer file names' rules); how it fits the source is checked by
 * {@link unattendedSourceIssues}.
 */
export const installFinishedSchema: z.ZodType<InstallFinished> = z.union(
  [
    z.literal('poweroff'),
    z.strictObject({
      port: z
        .number({ error: 'must be a TCP port number' })
        .min(1, 'must be 1-65535')
        .max(65535, 'must be 1-65535')
        // A refinement: with .int() the union reported only its own message.
        .refine(Number.isInteger, 'must be a whole TCP port number'),
    }),
    z.strictObject({
      call: z.string().superRefine((name, ctx) => {
        const bad = badAnswerName(name);
        if (bad) ctx.addIssue({ code: 'custom', message: bad });
      }),
    }),
  ],
  { error: "must be 'poweroff', { port } or { call }" },
);

/** Deliveries each installer source can take. */
const DELIVERIES: Readonly<Record<'iso' | 'kernel', readonly string[]>> = {
  iso: ['http', 'iso', 'initrd', 'drive'],
  kernel: ['http', 'initrd', 'drive'],
};

/** What an installer source with answers must hold: {@link unattendedSourceIssues}' input. */
interface InstallerSourceFields {
  readonly type: 'iso' | 'kernel';
  readonly unattended?: UnattendedAnswers | undefined;
  readonly kernelParams?: string | undefined;
  readonly cmdline?: string | undefined;
  readonly bootCommand?: readonly string[] | undefined;
  readonly installFinished?: InstallFinished | undefined;
}

/**
 * What is wrong with an installer source's answers as a whole: a delivery the source cannot take
 * (`iso` on a kernel), `iso` without `kernelParams`, an unknown placeholder in its boot line, `{{http}}`
 * without the `http` delivery, an `installFinished` call without the `http` delivery or named
 * like an answer file. Paths are relative to the source.
 */
export function unattendedSourceIssues(
  source: InstallerSourceFields,
): Array<{ path: (string | number)[]; message: string }> {
  const issues: Array<{ path: (string | number)[]; message: string }> = [];
  const bootField = source.type === 'iso' ? 'kernelParams' : 'cmdline';
  const boot = source.type === 'iso' ? source.kernelParams : source.cmdline;
  const deliveries = source.unattended?.delivery ?? [];
  for (const [i, delivery] of deliveries.entries()) {
    if (DELIVERIES[source.type].includes(delivery)) continue;
    const rule = `'${delivery}' cannot be taken by a ${source.type} source (it takes ${DELIVERIES[source.type].join(', ')})`;
    issues.push({ path: ['unattended', 'delivery', i], message: rule });
  }
  if (deliveries.includes('iso') && source.type === 'iso' && boot === undefined)
    issues.push({
      path: ['kernelParams'],
      message:
        "must point the installer at the answers the 'iso' delivery puts at the ISO's root (e.g. file=/cdrom/preseed.cfg)",
    });
  if (boot !== undefined) {
    for (const unknown of unknownPlaceholders(boot))
      issues.push({
        path: [bootField],
        message: `{{${unknown}}} is not a placeholder vmkit knows (http, hostname, user, publicKey, passwordHash)`,
      });
    if (usesPlaceholder(boot, 'http') && !deliveries.includes('http'))
      issues.push({ path: [bootField], message: "uses {{http}} but unattended.delivery has no 'http'" });
  }
  for (const [i, line] of (source.bootCommand ?? []).entries()) {
    for (const unknown of unknownPlaceholders(line))
      issues.push({
        path: ['bootCommand', i],
        message: `{{${unknown}}} is not a placeholder vmkit knows (http, hostname, user, publicKey, passwordHash)`,
      });
    if (usesPlaceholder(line, 'http') && !deliveries.includes('http'))
      issues.push({
        path: ['bootCommand', i],
        message: "uses {{http}} but unattended.delivery has no 'http'",
      });
  }
  const finished = source.installFinished;
  if (typeof finished === 'object' && 'call' in finished) {
    if (!deliveries.includes('http'))
      issues.push({
        path: ['installFinished', 'call'],
        message: "needs vmkit's answer server: unattended.delivery has no 'http'",
      });
    if (Object.hasOwn(source.unattended?.files ?? {}, finished.call))
      issues.push({
        path: ['installFinished', 'call'],
        message: `'${finished.call}' is an answer file's name; a call must have a name of its own`,
      });
  }
  // Key names are checked with the placeholders standing for typeable text.
  const known = new RegExp(`\\{\\{\\s*(?:${ANSWER_PLACEHOLDERS.join('|')})\\s*\\}\\}`, 'g');
  try {
    parseBootCommand((source.bootCommand ?? []).map((line) => line.replace(known, 'x')));
  } catch (error) {
    const m = /^bootCommand\[(\d+)\]: (.*)$/s.exec((error as Error).message);
    issues.push({ path: ['bootCommand', Number(m?.[1] ?? 0)], message: m?.[2] ?? (error as Error).message });
  }
  return issues;
}
