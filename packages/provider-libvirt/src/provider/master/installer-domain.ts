import { type AnswerSession, type BuildContext, randomMac, VmkitError } from '@vmkit/core/spi';
import type { LibvirtContext } from '../libvirt-context.js';
import { domainFirmware } from '../node/domain-firmware.js';
import { renderBuildDomainMetadata } from '../node/node-metadata.js';
import { buildDomainXml } from '../xml/domain-xml.js';
import type { BuildState, MasterNames } from './build-state.js';
import { readConsoleLog } from './console-log.js';
import { installPortForward, watchInstallSignal } from './install-signal.js';
import type { InstallerMedia } from './installer-media.js';
import { runInstallerToCompletion } from './installer-run.js';
import { typeBootCommand } from './type-boot-command.js';

/**
 * Defines the installer domain over the prepared media (UEFI with the master's NVRAM volume when
 * one is given) and runs it until the guest powers off or gives the source's `installFinished`
 * signal (a guest port answering through a forward of its user-mode NIC, a call to the answer server)
 * (on real guests; libvirt's test driver only starts and stops it), then checks its console log
 * for a reported failure. The domain is recorded in the build state as soon as it is defined, so
 * `discard` removes it whatever fails next.
 */
export async function runInstallerDomain(
  ctx: LibvirtContext,
  c: BuildContext,
  names: MasterNames,
  s: BuildState,
  media: InstallerMedia,
  nvramVolume: string | undefined,
  answers: AnswerSession,
): Promise<void> {
  // The installer's console goes to a file in the pool, read back through the storage API.
  const consoleLog = ctx.realGuests ? `${await ctx.storage.targetPath()}/${names.consoleLog}` : undefined;
  // Tracked before the domain exists: whatever fails from here, discard removes the log.
  if (consoleLog) s.volumes.push(names.consoleLog);
  const firmware = await domainFirmware(ctx, nvramVolume);
  // installFinished: { port } is read through a forward of the installer's user-mode NIC.
  const forward = ctx.realGuests ? await installPortForward(answers) : undefined;
  const xml = buildDomainXml({
    ...(consoleLog ? { consoleLog } : {}),
    ...(firmware ? { firmware } : {}),
    name: names.installer,
    type: ctx.domainType,
    machine: ctx.options.machine,
    arch: ctx.arch,
    memoryMiB: c.spec.hardware?.ramMiB ?? 256,
    vcpus: c.spec.hardware?.cores ?? 1,
    boot: media.boot,
    disks: media.disks,
    // The answer server is reached through user networking (the host's 127.0.0.1 as 10.0.2.2).
    nics:
      answers.server || forward
        ? [{ slot: 0, attachment: 'nat', mac: randomMac(), portForwards: forward ? [forward] : [] }]
        : [],
    qemuCommandLine: ctx.qemuCommandLine,
    // No USB controller, no guest agent channel: fewer devices for the installer to detect.
    lean: true,
    metadata: renderBuildDomainMetadata(names.installer, c.spec.id, names.volume, 'installer'),
  });
  // Named in the state before the definition is sent: one whose answer is lost may have happened.
  s.installer = names.installer;
  const dom = await ctx.client.domains.defineXml(xml);
  c.progress(0.2, 'installer defined');
  if (ctx.realGuests) {
    const source = c.spec.source;
    const timeoutMs =
      (source.type === 'iso' || source.type === 'kernel' ? source.installTimeoutMs : undefined) ??
      ctx.options.installTimeoutMs;
    const finished = watchInstallSignal(answers, forward, c.signal);
    const ms = await runInstallerToCompletion(ctx, dom, {
      signal: c.signal,
      timeoutMs,
      progress: (f, m) => c.progress(0.2 + 0.75 * f, m),
      afterStart: (started) => typeBootCommand(ctx, c, started, answers),
      ...(finished ? { finished } : {}),
    }).catch(async (error: unknown) => {
      throw await withConsoleTail(ctx, names.consoleLog, error);
    });
    c.logger.info('libvirt installer finished', {
      master: c.masterName,
      ms,
      by: finished?.seen ? finished.what : 'poweroff',
    });
    await checkInstallerConsole(ctx, names.consoleLog);
  } else {
    // libvirt's test driver runs no guest: start and stop the installer to exercise the calls.
    await ctx.client.domains.create(dom);
    await ctx.client.domains.destroy(dom);
  }
}

/** How many of the console's last lines a failed install's error carries. */
const TAIL_LINES = 20;

/** The most characters of a console tail (a screen-drawing installer writes long lines). */
const TAIL_CHARS = 4000;

/**
 * The last {@link TAIL_LINES} non-blank lines of a console log's text, terminal escape sequences
 * and other control characters taken out, at most {@link TAIL_CHARS} characters.
 */
export function consoleTail(text: string): string {
  const plain = text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what we remove
    .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[()][0-9A-Za-z]|\u001b[=>78cDEHM]/g, '')
    .replace(/\r\n?/g, '\n')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we remove
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  const lines = plain
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  return lines.slice(-TAIL_LINES).join('\n').slice(-TAIL_CHARS);
}

/**
 * The installer's failure (timed out, crashed, aborted) with the console's last lines added to
 * its message and details (`consoleTail`); the log volume stays for the build's discard.
 */
async function withConsoleTail(ctx: LibvirtContext, logVolume: string, error: unknown): Promise<unknown> {
  if (!(error instanceof VmkitError) || error.code === 'ABORTED') return error;
  const text = await readConsoleLog(ctx, logVolume).catch(() => undefined);
  if (!text?.trim()) return error;
  const tail = consoleTail(text);
  return new VmkitError(error.code, `${error.message}; the console's last lines:\n${tail}`, {
    cause: error,
    details: { ...error.details, consoleTail: tail },
  });
}

/** Markers on an installer's console that mean the installation failed. */
const INSTALL_FAILURE = /VMKIT-INSTALL-FAILED[^\n]*|Kernel panic[^\n]*|VMKIT-TIMEOUT[^\n]*/;

/**
 * Reads the installer's console log (a file in the pool, fetched with `STORAGE_VOL_DOWNLOAD`) and
 * throws `PROVIDER` with the failure line and the console's last lines when the guest reported a
 * failed installation. The log stays, the build's artefact, until the build finishes or is
 * discarded.
 */
async function checkInstallerConsole(ctx: LibvirtContext, logVolume: string): Promise<void> {
  const text = await readConsoleLog(ctx, logVolume);
  const failure = text === undefined ? null : INSTALL_FAILURE.exec(text);
  if (text !== undefined && failure) {
    const tail = consoleTail(text);
    throw new VmkitError(
      'PROVIDER',
      `installer failed: ${failure[0].trim()}; the console's last lines:\n${tail}`,
      {
        details: { consoleTail: tail },
      },
    );
  }
}
