import { readFile } from 'node:fs/promises';
import { publicKeyOf } from '../credentials/ssh-key-pair.js';
import { invalidArgument } from '../errors/vmkit-error.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { InstallFinished, UnattendedAnswers } from '../model/unattended.js';
import type { Logger } from '../util/logger.js';
import { type AnswerServer, startAnswerServer } from './answer-server.js';
import { type AnswerPlaceholder, renderAnswerTemplate, unknownPlaceholders } from './answer-template.js';
import { sha512Crypt } from './sha512-crypt.js';

/** What {@link openAnswerSession} needs besides the spec. */
export interface AnswerSessionOptions {
  readonly logger: Logger;
  /** The master's name, for the logs. */
  readonly label: string;
  /** The host's address as the guest sees it (default `10.0.2.2`). */
  readonly guestAddress?: string;
}

/** A build's answers, rendered, and their server while the build runs (see {@link openAnswerSession}). */
export interface AnswerSession {
  /** The deliveries asked for (empty without `unattended`). */
  readonly delivery: readonly UnattendedAnswers['delivery'][number][];
  /** The rendered files by name (empty without `unattended`). */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The drive label of the `drive` delivery. */
  readonly driveLabel: string;
  /** The answer server (with the `http` delivery); it answers the `installFinished` call, if any. */
  readonly server?: AnswerServer;
  /** What says the install finished (the source's `installFinished`, default `'poweroff'`). */
  readonly installFinished: InstallFinished;
  /** `text` with its placeholders expanded (the boot line); `field` names it in errors. */
  expand(text: string, field: string): string;
  /** Closes the server; idempotent. */
  close(): Promise<void>;
}

/**
 * Reads a spec's answer files (inline or from their paths; a path's unknown placeholder is refused
 * naming the file, before anything is made), starts the answer server when `http` is a delivery,
 * and renders every file with `{{http}}`, `{{hostname}}`, `{{user}}`, `{{publicKey}}` and
 * `{{passwordHash}}` (the login password's SHA-512 crypt hash, never the password). Each file
 * is logged by name and size. Close it when the build ends, however it ends.
 */
export async function openAnswerSession(
  spec: MasterSpec,
  options: AnswerSessionOptions,
): Promise<AnswerSession> {
  const source = spec.source;
  const answers = source.type === 'iso' || source.type === 'kernel' ? source.unattended : undefined;
  const templates = new Map<string, string>();
  for (const [name, body] of Object.entries(answers?.files ?? {})) {
    const field = `source.unattended.files.${name}`;
    const text =
      typeof body === 'string'
        ? body
        : await readFile(body.path, 'utf8').catch((error: unknown) => {
            throw invalidArgument(
              `${field}.path`,
              `cannot be read (${(error as Error).message})`,
              {},
              { cause: error },
            );
          });
    const unknown = unknownPlaceholders(text)[0];
    if (unknown !== undefined)
      throw invalidArgument(field, `{{${unknown}}} is not a placeholder vmkit knows`);
    templates.set(name, text);
  }
  const values: Partial<Record<AnswerPlaceholder, string>> = {
    hostname: spec.id,
    user: spec.login?.user ?? 'root',
  };
  // Only installers have answers and boot lines to render: other sources pay nothing for the login's values.
  const installer = source.type === 'iso' || source.type === 'kernel';
  const key = installer && spec.login?.privateKey ? await publicKeyOf(spec.login.privateKey) : undefined;
  if (key) values.publicKey = key;
  if (installer && spec.login?.password !== undefined) values.passwordHash = sha512Crypt(spec.login.password);
  const files = new Map<string, Uint8Array>();
  const delivery = answers?.delivery ?? [];
  const finished = installer ? source.installFinished : undefined;
  const server = delivery.includes('http')
    ? await startAnswerServer({
        files,
        logger: options.logger,
        label: options.label,
        ...(typeof finished === 'object' && 'call' in finished ? { calls: [finished.call] } : {}),
        ...(options.guestAddress ? { guestAddress: options.guestAddress } : {}),
      })
    : undefined;
  if (server) values.http = server.url;
  try {
    for (const [name, text] of templates) {
      const bytes = Buffer.from(renderAnswerTemplate(text, values, `source.unattended.files.${name}`));
      files.set(name, bytes);
      options.logger.info('unattended answer file', {
        master: options.label,
        file: name,
        bytes: bytes.byteLength,
      });
    }
  } catch (error) {
    await server?.close();
    throw error;
  }
  return {
    delivery,
    files,
    driveLabel: answers?.driveLabel ?? 'OEMDRV',
    installFinished: finished ?? 'poweroff',
    ...(server ? { server } : {}),
    expand: (text, field) => renderAnswerTemplate(text, values, field),
    close: async () => server?.close(),
  };
}
