import { chmod, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger, UnattendedDelivery } from '@vmkit/core';
import { VmkitError } from '@vmkit/core/spi';
import { appendToInitrd } from '../initrd/append-initrd.js';
import { isoInitrdPaths } from '../initrd/iso-initrds.js';
import { readIso9660 } from '../iso9660/read/iso-reader.js';
import { remasterBootIso } from './remaster-boot-iso.js';

/** Options of {@link remasterWithAnswers}. */
export interface RemasterWithAnswersOptions {
  /** The installer ISO (never changed). */
  readonly source: string;
  /**
   * Where the remastered ISO goes (mode 0600: the answers may hold password hashes). It is made in
   * a private folder beside it and renamed into place, so no one reads it half-written.
   */
  readonly output: string;
  /**
   * The build's answers (an `AnswerSession`, or these parts of one): the deliveries asked for
   * (only `iso` and `initrd` change the ISO), the rendered files by name, and the answer server,
   * whose URL in the kernel parameters (`{{http}}` expanded) makes them this build's alone: the
   * ISO is then remastered here (a per-build file) even without `iso` and `initrd`, never in a
   * shared boot ISO cache where each build would leave an entry holding its URL.
   */
  readonly answers: {
    readonly delivery: readonly UnattendedDelivery[];
    readonly files: ReadonlyMap<string, Uint8Array>;
    readonly server?: { readonly url: string } | undefined;
  };
  /** Kernel parameters added to every kernel line, placeholders already expanded (may be empty). */
  readonly kernelParams: string;
  readonly signal?: AbortSignal;
  /** Logs what was written: file names and sizes, never content. */
  readonly logger?: Logger;
  /** The master's name, for the log. */
  readonly label?: string;
}

/** What {@link remasterWithAnswers} wrote. */
export interface RemasteredWithAnswers {
  /** The output path. */
  readonly file: string;
  /** Size of the output in bytes. */
  readonly bytes: number;
  /** The ISO paths written: the answer files (`iso`) and the answered initrds (`initrd`). */
  readonly paths: readonly string[];
}

/**
 * An installer ISO with an unattended install's answers for the `iso` and `initrd` deliveries, the
 * part every provider shares: remastered by {@link remasterBootIso} with `kernelParams` on its
 * kernel lines, the answer files at its root (`iso`) and every initrd its boot configurations load
 * replaced by itself with the answers appended as a second cpio archive (`initrd`, see
 * {@link isoInitrdPaths} and {@link appendToInitrd}). `undefined` (nothing written) without either
 * delivery, unless the kernel parameters name the build's answer server (see `answers`).
 * Logged by name and size.
 *
 * @throws `UNSUPPORTED` naming `source.unattended.delivery` when `initrd` is asked of an ISO whose
 * isolinux and GRUB configurations name no initrd; the errors of {@link remasterBootIso}. Nothing
 * is left at `output` or beside it on failure or abort.
 */
export async function remasterWithAnswers(
  options: RemasterWithAnswersOptions,
): Promise<RemasteredWithAnswers | undefined> {
  const { delivery, files: rendered, server } = options.answers;
  const onIso = delivery.includes('iso');
  const inInitrd = delivery.includes('initrd');
  const perBuild = server !== undefined && options.kernelParams.includes(server.url);
  if (!onIso && !inInitrd && !perBuild) return undefined;
  const answers = [...rendered].map(([name, content]) => ({ name, path: name, content }));
  // Private (mkdtemp: 0700) and beside the output, so the rename stays on one file system.
  const work = await mkdtemp(join(dirname(options.output), '.vmkit-answers-'));
  try {
    const files = onIso ? answers.map(({ path, content }) => ({ path, content })) : [];
    if (inInitrd) files.push(...(await answeredInitrds(options.source, answers, work, options.signal)));
    const written = join(work, 'installer.iso');
    const result = await remasterBootIso({
      source: options.source,
      output: written,
      kernelParams: options.kernelParams,
      files,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await chmod(written, 0o600);
    await rename(written, options.output);
    options.logger?.info('unattended answers put on the installer ISO', {
      ...(options.label !== undefined ? { master: options.label } : {}),
      file: options.output,
      files: files.map((f) => f.path),
      bytes: result.bytes,
    });
    return { file: options.output, bytes: result.bytes, paths: files.map((f) => f.path) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Each initrd the ISO boots, with the answers appended; refuses an ISO whose configurations name none. */
async function answeredInitrds(
  iso: string,
  answers: ReadonlyArray<{ name: string; path: string; content: Uint8Array }>,
  dir: string,
  signal: AbortSignal | undefined,
) {
  const paths = await isoInitrdPaths(iso);
  if (paths.length === 0)
    throw new VmkitError(
      'UNSUPPORTED',
      "source.unattended.delivery: 'initrd' found no initrd named by the ISO's isolinux or GRUB configuration",
      { details: { field: 'source.unattended.delivery' } },
    );
  const reader = await readIso9660(iso);
  const out: Array<{ path: string; content: Uint8Array }> = [];
  for (const [i, path] of paths.entries()) {
    const plain = join(dir, `initrd-${i}`);
    await writeFile(plain, await reader.readFile(path), { mode: 0o600 });
    await appendToInitrd(plain, answers, `${plain}.answered`, signal ? { signal } : {});
    out.push({ path, content: await readFile(`${plain}.answered`) });
    await rm(plain, { force: true });
  }
  return out;
}
