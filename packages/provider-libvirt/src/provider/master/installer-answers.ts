import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnswerSession, BuildContext } from '@vmkit/core/spi';
import { appendToInitrd, remasterWithAnswers, writeIso9660 } from '@vmkit/imaging';
import type { LibvirtContext } from '../libvirt-context.js';
import type { DomainDisk } from '../xml/domain-xml.js';
import type { MasterNames } from './build-state.js';

/** The answer files as media entries / cpio files, each logged by name and size. */
function answerEntries(answers: AnswerSession) {
  return [...answers.files].map(([name, content]) => ({ name, path: name, content }));
}

/**
 * With the `initrd` delivery: writes the installer's initrd with the answer files appended as a
 * second gzip'd cpio archive (see `appendToInitrd`) and uploads it as the volume
 * `names.answersInitrd`, which only the installer boots (the master keeps the plain initrd, so no
 * node boots with the answers). Returns its path, or `undefined` without the delivery.
 */
export async function uploadAnswersInitrd(
  ctx: LibvirtContext,
  c: BuildContext,
  answers: AnswerSession,
  initrd: string,
  names: MasterNames,
  track: (volume: string) => void,
): Promise<string | undefined> {
  if (!answers.delivery.includes('initrd')) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-answers-'));
  try {
    const file = join(dir, 'initrd');
    const bytes = await appendToInitrd(initrd, answerEntries(answers), file, { signal: c.signal });
    c.logger.info('unattended answers appended to the initrd', {
      master: c.masterName,
      bytes,
      files: [...answers.files.keys()],
    });
    track(names.answersInitrd);
    const vol = await ctx.storage.createFromFile(names.answersInitrd, file, 'raw', 0, { signal: c.signal });
    return await ctx.storage.path(vol);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * With the `drive` delivery: an ISO 9660 image labelled `answers.driveLabel` holding the answer
 * files at its root, made in-process, uploaded as the volume `names.answersDrive` and attached
 * to the installer as a CD-ROM. `undefined` without the delivery.
 */
export async function uploadAnswersDrive(
  ctx: LibvirtContext,
  c: BuildContext,
  answers: AnswerSession,
  names: MasterNames,
  track: (volume: string) => void,
): Promise<DomainDisk | undefined> {
  if (!answers.delivery.includes('drive')) return undefined;
  const image = await writeIso9660(
    answerEntries(answers).map(({ path, content }) => ({ path, content })),
    { volumeId: answers.driveLabel },
  );
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-answers-'));
  try {
    const file = join(dir, 'drive.iso');
    await writeFile(file, image, { mode: 0o600 });
    c.logger.info('unattended answers drive', {
      master: c.masterName,
      label: answers.driveLabel,
      bytes: image.byteLength,
    });
    track(names.answersDrive);
    await ctx.storage.createFromFile(names.answersDrive, file, 'raw', 0, { signal: c.signal });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { pool: ctx.storage.name, volume: names.answersDrive, format: 'raw', role: 'cdrom' };
}

/**
 * With the `iso` or `initrd` delivery of an ISO source: the installer ISO remastered with the
 * answers by imaging's `remasterWithAnswers` (the part every provider shares), `kernelParams`
 * (already expanded, may be empty) on its kernel lines, written into a directory of its own
 * (never the shared boot ISO cache: the files change per build). Also without them when the
 * kernel parameters name the build's answer server (`{{http}}`). `undefined` otherwise.
 */
export async function isoWithAnswers(
  c: BuildContext,
  answers: AnswerSession,
  iso: string,
  kernelParams: string,
): Promise<{ file: string; cleanup(): Promise<void> } | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-answers-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const result = await remasterWithAnswers({
      source: iso,
      output: join(dir, 'installer.iso'),
      answers,
      kernelParams,
      logger: c.logger,
      label: c.masterName,
      ...(c.signal ? { signal: c.signal } : {}),
    });
    if (!result) {
      await cleanup();
      return undefined;
    }
    return { file: result.file, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** A boot line without the words that point at the answer server (the nodes' boot: it is gone). */
export function withoutAnswerServer(cmdline: string): string {
  return cmdline
    .split(/\s+/)
    .filter((word) => word !== '' && !/\{\{\s*http\s*\}\}/.test(word))
    .join(' ');
}
