import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AnswerSession, type BuildContext, VmkitError } from '@vmkit/core/spi';
import { appendToInitrd, isoInitrdPaths, readIso9660, remasterBootIso, writeIso9660 } from '@vmkit/imaging';
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
 * With the `iso` or `initrd` delivery of an ISO source: the installer ISO remastered in-process
 * (`remasterBootIso`), `kernelParams` (already expanded, may be empty) on its kernel lines, the
 * answer files at its root (`iso`) and every initrd its boot configurations load replaced by
 * itself with the answers appended (`initrd`, see `isoInitrdPaths`), written into a directory of
 * its own (never the shared boot ISO cache: the files change per build). `undefined` without
 * either delivery.
 */
export async function isoWithAnswers(
  c: BuildContext,
  answers: AnswerSession,
  iso: string,
  kernelParams: string,
): Promise<{ file: string; cleanup(): Promise<void> } | undefined> {
  const onIso = answers.delivery.includes('iso');
  const inInitrd = answers.delivery.includes('initrd');
  if (!onIso && !inInitrd) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-answers-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const files = onIso ? answerEntries(answers).map(({ path, content }) => ({ path, content })) : [];
    if (inInitrd) files.push(...(await answeredInitrds(c, answers, iso, dir)));
    const file = join(dir, 'installer.iso');
    const result = await remasterBootIso({
      source: iso,
      output: file,
      kernelParams,
      files,
      signal: c.signal,
    });
    c.logger.info('unattended answers put on the installer ISO', {
      master: c.masterName,
      files: files.map((f) => f.path),
      bytes: result.bytes,
    });
    return { file, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Each initrd the ISO boots, with the answers appended; refuses an ISO whose configurations name none. */
async function answeredInitrds(c: BuildContext, answers: AnswerSession, iso: string, dir: string) {
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
    await writeFile(plain, await reader.readFile(path));
    await appendToInitrd(plain, answerEntries(answers), `${plain}.answered`, { signal: c.signal });
    out.push({ path, content: await readFile(`${plain}.answered`) });
    await rm(plain, { force: true });
  }
  return out;
}

/** A boot line without the words that point at the answer server (the nodes' boot: it is gone). */
export function withoutAnswerServer(cmdline: string): string {
  return cmdline
    .split(/\s+/)
    .filter((word) => word !== '' && !/\{\{\s*http\s*\}\}/.test(word))
    .join(' ');
}
