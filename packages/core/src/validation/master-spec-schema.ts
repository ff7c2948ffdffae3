import { z } from 'zod';
import { SECRETS_DIGEST_PATTERN } from '../masters/login-secrets.js';
import type { StoredLoginCredentials, StoredMasterSpec } from '../masters/master-record.js';
import type { Firmware, Hardware, MasterHardware } from '../model/hardware.js';
import type { LoginCredentials } from '../model/login-credentials.js';
import type { MasterSource, MasterSpec } from '../model/master-spec.js';
import { networkSpecSchema } from './network-schema.js';

import { IMAGE_ID_PATTERN } from './patterns.js';
import { installFinishedSchema, unattendedSchema, unattendedSourceIssues } from './unattended-schema.js';
import { warmSpecSchema } from './warm-schema.js';

/**
 * Kernel parameters added to a boot ISO: 1 to 1024 printable characters, whitespace-separated
 * `key` or `key=value` words, keys of letters, digits and `_-.`, balanced double quotes, no
 * standalone `--` (what follows it goes to init). `@vmkit/imaging` checks the same rules.
 */
export const kernelParamsSchema = z
  .string()
  .min(1, 'must hold at least one parameter')
  .max(1024, 'must be at most 1024 characters')
  .refine(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
    (text) => !/[\u0000-\u001f\u007f]/.test(text),
    'must not contain a newline, NUL or control character',
  )
  .refine((text) => (text.match(/"/g) ?? []).length % 2 === 0, 'has an unbalanced double quote')
  .refine(
    (text) =>
      (text.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []).every(
        (word) => /^[A-Za-z0-9_.-]+(=.*)?$/.test(word) && word !== '--' && word !== '---',
      ),
    "each parameter is key or key=value, keys of letters, digits, '_', '-' and '.'",
  );

/** Schema of an image id. */
export const imageIdSchema = z
  .string({ error: 'must be a string' })
  .regex(IMAGE_ID_PATTERN, 'must be 1-63 of a-z, 0-9, ., _, -, starting with a letter or digit')
  .refine((id) => !id.includes('..'), "must not contain '..'");

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
const path = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\u0000'), 'must not contain NUL');
const url = z
  .string()
  .max(8192)
  .refine(
    (u) => URL.canParse(u) && /^(https?|file):$/.test(new URL(u).protocol),
    'must be an http:, https: or file: URL',
  );

const maxBytes = z
  .number({ error: 'must be a number of bytes' })
  .int('must be a whole number of bytes')
  .min(1, 'must be at least 1 byte')
  .max(Number.MAX_SAFE_INTEGER, 'must be a safe integer');

const installTimeoutMs = z
  .number({ error: 'must be a number of milliseconds' })
  .int('must be a whole number of milliseconds')
  .min(1000, 'must be 1 s to 7 days')
  .max(7 * 24 * 3600 * 1000, 'must be 1 s to 7 days');

const bootCommand = z
  .array(z.string().max(4096, 'must be at most 4096 characters'))
  .max(100, 'must be at most 100 lines');
const bootWait = z
  .number({ error: 'must be a number of milliseconds' })
  .int('must be a whole number of milliseconds')
  .min(0, 'must be 0 to 600000 ms')
  .max(600_000, 'must be 0 to 600000 ms');

const answersFit = (source: Parameters<typeof unattendedSourceIssues>[0], ctx: z.RefinementCtx): void => {
  for (const issue of unattendedSourceIssues(source)) ctx.addIssue({ code: 'custom', ...issue });
};

const pathOrUrl = <T extends { path?: string; url?: string }>(v: T, ctx: z.RefinementCtx) => {
  if ((v.path === undefined) === (v.url === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['path'], message: 'give exactly one of path or url' });
  }
};

const sourceSchema: z.ZodType<MasterSource> = z.discriminatedUnion(
  'type',
  [
    z
      .strictObject({
        type: z.literal('disk'),
        path: path.optional(),
        url: url.optional(),
        maxBytes: maxBytes.optional(),
        format: z.enum(['raw', 'qcow2', 'vmdk', 'vdi', 'vhd', 'vhdx']).optional(),
        sha256: sha256.optional(),
      })
      .superRefine(pathOrUrl),
    z
      .strictObject({
        type: z.literal('iso'),
        path: path.optional(),
        url: url.optional(),
        maxBytes: maxBytes.optional(),
        sha256: sha256.optional(),
        unattended: unattendedSchema.optional(),
        installTimeoutMs: installTimeoutMs.optional(),
        bootCommand: bootCommand.optional(),
        bootWait: bootWait.optional(),
        installFinished: installFinishedSchema.optional(),
        kernelParams: kernelParamsSchema.optional(),
      })
      .superRefine(pathOrUrl)
      .superRefine(answersFit),
    z
      .strictObject({
        type: z.literal('bootIso'),
        path: path.optional(),
        url: url.optional(),
        maxBytes: maxBytes.optional(),
        sha256: sha256.optional(),
        kernelParams: kernelParamsSchema.optional(),
      })
      .superRefine(pathOrUrl),
    z
      .strictObject({
        type: z.literal('box'),
        path: path.optional(),
        url: url.refine((u) => !u.startsWith('file:'), 'must be an http: or https: URL').optional(),
        maxBytes: maxBytes.optional(),
        sha256: sha256.optional(),
        provider: z.enum(['libvirt', 'virtualbox']).optional(),
      })
      .superRefine(pathOrUrl),
    z
      .strictObject({
        type: z.literal('kernel'),
        kernel: path,
        initrd: path,
        cmdline: z.string().max(4096).optional(),
        unattended: unattendedSchema.optional(),
        installTimeoutMs: installTimeoutMs.optional(),
        bootCommand: bootCommand.optional(),
        bootWait: bootWait.optional(),
        installFinished: installFinishedSchema.optional(),
      })
      .superRefine(answersFit),
  ],
  { error: "must have type 'disk', 'iso', 'kernel', 'bootIso' or 'box'" },
);

/** Schema of a {@link Firmware}: `bios` or `efi`. */
export const firmwareSchema: z.ZodType<Firmware> = z.enum(['bios', 'efi'], {
  error: "must be 'bios' or 'efi'",
});

const hardwareSchema: z.ZodType<MasterHardware> = z.strictObject({
  cores: z.number().int().min(1, 'must be 1-256').max(256, 'must be 1-256').optional(),
  ramMiB: z
    .number()
    .int()
    .min(64, 'must be 64 MiB-4 TiB')
    .max(4 * 1024 * 1024, 'must be 64 MiB-4 TiB')
    .optional(),
  diskGiB: z.number().int().min(1, 'must be 1-65536 GiB').max(65536, 'must be 1-65536 GiB').optional(),
  firmware: firmwareSchema.optional(),
});

/** Schema of a complete {@link Hardware} profile (templates built by hand are checked with it). */
export const hardwareProfileSchema: z.ZodType<Hardware> = z.strictObject({
  id: z.string().min(1).max(64),
  name: z.string().max(200).optional(),
  cores: z.number().int().min(1, 'must be 1-256').max(256, 'must be 1-256'),
  ramMiB: z
    .number()
    .int()
    .min(64, 'must be 64 MiB-4 TiB')
    .max(4 * 1024 * 1024, 'must be 64 MiB-4 TiB'),
  diskGiB: z.number().int().min(1, 'must be 1-65536 GiB').max(65536, 'must be 1-65536 GiB'),
  firmware: firmwareSchema.optional(),
});

const loginShape = {
  user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a POSIX user name'),
  password: z.string().max(1024).optional(),
  privateKey: z.string().max(65536).optional(),
  authenticateSudo: z.boolean().optional(),
};

/** Schema of {@link LoginCredentials}. */
export const loginSchema: z.ZodType<LoginCredentials> = z.strictObject(loginShape);

/** Schema of a {@link StoredLoginCredentials}: a login as a record keeps it. */
const storedLoginSchema: z.ZodType<StoredLoginCredentials> = z
  .strictObject({
    ...loginShape,
    secretsDigest: z.string().regex(SECRETS_DIGEST_PATTERN, 'must be a vmkit scrypt digest').optional(),
  })
  .refine(
    (login) => login.secretsDigest === undefined || (login.password ?? login.privateKey) === undefined,
    { message: 'must not hold a password or private key beside their digest', path: ['secretsDigest'] },
  );

function specSchema<L extends LoginCredentials>(login: z.ZodType<L>) {
  return z
    .strictObject({
      id: imageIdSchema,
      name: z.string().min(1).max(200).optional(),
      os: z.strictObject({
        family: z
          .string()
          .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be a lower-case family name such as debian'),
        version: z.string().min(1, 'must not be empty').max(64),
        arch: z.string().regex(/^[a-z0-9_]{1,16}$/, 'must be an architecture such as x86_64'),
      }),
      source: sourceSchema,
      hardware: hardwareSchema.optional(),
      login: login.optional(),
      postInstall: z
        .array(
          z.strictObject({
            name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be 1-63 of a-z, 0-9, _ and -'),
            run: z.string().max(1024 * 1024, 'must be at most 1 MiB'),
          }),
        )
        .max(100)
        .optional(),
      network: networkSpecSchema.optional(),
      warm: warmSpecSchema.optional(),
    })
    .superRefine((spec, ctx) => {
      const names = new Set<string>();
      for (const [i, step] of (spec.postInstall ?? []).entries()) {
        if (names.has(step.name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['postInstall', i, 'name'],
            message: `duplicates ${step.name}`,
          });
        }
        names.add(step.name);
      }
    });
}

/**
 * Schema of a {@link MasterSpec}. A `network` is refused: no provider reads it (see
 * `MasterSpec.network`); records written before keep loading (see {@link storedMasterSpecSchema}).
 */
export const masterSpecSchema: z.ZodType<MasterSpec> = specSchema(loginSchema).superRefine((spec, ctx) => {
  if (spec.network === undefined) return;
  ctx.addIssue({
    code: 'custom',
    path: ['network'],
    message:
      'is not supported: no provider reads it (an install runs without a NIC, post-install steps with one NAT NIC); remove it',
  });
});

/** Schema of a {@link StoredMasterSpec}, the spec of a record (untrusted input). */
export const storedMasterSpecSchema: z.ZodType<StoredMasterSpec> = specSchema(storedLoginSchema);
