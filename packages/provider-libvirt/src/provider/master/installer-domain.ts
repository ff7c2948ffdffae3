import { type BuildContext, VmkitError } from '@vmkit/core/spi';
import { deleteLeftoverVolume } from '../host/volume-cleanup.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { domainFirmware } from '../node/domain-firmware.js';
import { renderBuildDomainMetadata } from '../node/node-metadata.js';
import { buildDomainXml } from '../xml/domain-xml.js';
import type { BuildState, MasterNames } from './build-state.js';
import { readConsoleLog } from './console-log.js';
import type { InstallerMedia } from './installer-media.js';
import { runInstallerToCompletion } from './installer-run.js';

/**
 * Defines the installer domain over the prepared media (UEFI with the master's NVRAM volume when
 * one is given) and runs it until the guest powers off
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
  nvramVolume?: string,
): Promise<void> {
  // The installer's console goes to a file in the pool, read back through the storage API.
  const consoleLog = ctx.realGuests ? `${await ctx.storage.targetPath()}/${names.consoleLog}` : undefined;
  // Tracked before the domain exists: whatever fails from here, discard removes the log.
  if (consoleLog) s.volumes.push(names.consoleLog);
  const firmware = await domainFirmware(ctx, nvramVolume);
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
    nics: [],
    qemuCommandLine: ctx.qemuCommandLine,
    metadata: renderBuildDomainMetadata(names.installer, c.spec.id, names.volume, 'installer'),
  });
  // Named in the state before the definition is sent: one whose answer is lost may have happened.
  s.installer = names.installer;
  const dom = await ctx.client.domains.defineXml(xml);
  c.progress(0.2, 'installer defined');
  if (ctx.realGuests) {
    const ms = await runInstallerToCompletion(ctx, dom, {
      signal: c.signal,
      timeoutMs: ctx.options.installTimeoutMs,
      progress: (f, m) => c.progress(0.2 + 0.75 * f, m),
    });
    c.logger.info('libvirt installer finished', { master: c.masterName, ms });
    await checkInstallerConsole(ctx, names.consoleLog);
  } else {
    // libvirt's test driver runs no guest: start and stop the installer to exercise the calls.
    await ctx.client.domains.create(dom);
    await ctx.client.domains.destroy(dom);
  }
}

/** Markers on an installer's console that mean the installation failed. */
const INSTALL_FAILURE = /VMKIT-INSTALL-FAILED[^\n]*|Kernel panic[^\n]*|VMKIT-TIMEOUT[^\n]*/;

/**
 * Reads the installer's console log (a file in the pool, fetched with `STORAGE_VOL_DOWNLOAD`) and
 * throws `PROVIDER` with the failure line when the guest reported a failed installation. The log
 * volume is deleted either way.
 */
async function checkInstallerConsole(ctx: LibvirtContext, logVolume: string): Promise<void> {
  try {
    const text = await readConsoleLog(ctx, logVolume);
    const failure = text === undefined ? null : INSTALL_FAILURE.exec(text);
    if (text !== undefined && failure) {
      const tail = text.trim().split('\n').slice(-5).join('\n');
      throw new VmkitError('PROVIDER', `installer failed: ${failure[0].trim()}`, {
        details: { consoleTail: tail },
      });
    }
  } finally {
    await deleteLeftoverVolume(ctx, logVolume, 'reading the installer console log');
  }
}
