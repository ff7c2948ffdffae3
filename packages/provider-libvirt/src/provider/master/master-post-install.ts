import { randomBytes } from 'node:crypto';
import type { BuildContext, PostInstallStep } from '@vmkit/core/spi';
import {
  GUEST_CLEANUP_STEPS,
  type GuestCleanupReport,
  postInstallScript,
  randomMac,
  readGuestCleanup,
  VmkitError,
} from '@vmkit/core/spi';
import { deleteLeftoverVolume } from '../host/volume-cleanup.js';
import type { LibvirtContext, LibvirtMasterData } from '../libvirt-context.js';
import { domainFirmware } from '../node/domain-firmware.js';
import { removeDomain } from '../node/domain-removal.js';
import { nodeBoot } from '../node/node-boot.js';
import { renderBuildDomainMetadata } from '../node/node-metadata.js';
import { buildDomainXml } from '../xml/domain-xml.js';
import { readConsoleLog } from './console-log.js';
import { runInstallerToCompletion } from './installer-run.js';
import { assertPostInstallSucceeded, readPostInstallConsole } from './post-install-console.js';

/** How much of a post-install console is read: enough for every step's markers, bounded. */
const POST_INSTALL_CONSOLE_BYTES = 1024 * 1024;

/** Names of what a post-install boot makes (all removed when it ends). */
export interface PostInstallNames {
  /** The temporary domain. */
  readonly domain: string;
  /** The NoCloud config drive volume. */
  readonly drive: string;
  /** The console log volume. */
  readonly consoleLog: string;
}

/** Names of a post-install boot's domain and volumes, from the master's name. */
export function postInstallNames(prefix: string, masterName: string): PostInstallNames {
  const domain = `${prefix}post-${masterName}`;
  return { domain, drive: `${domain}.iso`, consoleLog: `${domain}.log` };
}

/** Removes a post-install boot's domain and volumes; absent is not an error. */
export async function removePostInstallBoot(ctx: LibvirtContext, names: PostInstallNames): Promise<void> {
  await removeDomain(ctx, names.domain);
  // The console log is written by QEMU, not through libvirt: rescan so it is a volume.
  await ctx.storage.refresh().catch(() => {});
  for (const v of [names.drive, names.consoleLog])
    await deleteLeftoverVolume(ctx, v, `removing the post-install boot ${names.domain}`);
}

/**
 * Runs a master's post-install steps the way clouds run user data: boots the master disk itself
 * once (a kernel master by direct kernel boot with its node command line, any other from the
 * disk) with a NoCloud drive (`cidata`, meta-data `vmkit-post-install: true`) whose user data is
 * the `#!/bin/sh` script of {@link postInstallScript} (the spec's steps, then, unless
 * `options.cleanup` is false, the guest clean-up of {@link GUEST_CLEANUP_STEPS}); waits until the
 * guest powers off; reads the console, throws `PROVIDER` naming the step that failed, and returns
 * what the clean-up removed with the console text. The domain, drive and console
 * log are removed in every case. The master's disk keeps what the steps changed, so a failed run
 * leaves it half-changed: the build is then discarded, never resumed.
 */
export async function runPostInstall(
  ctx: LibvirtContext,
  c: BuildContext,
  master: LibvirtMasterData,
  steps: readonly PostInstallStep[],
  options: { readonly cleanup?: boolean } = {},
): Promise<{ cleanup: GuestCleanupReport; console: string }> {
  const names = postInstallNames(ctx.options.namePrefix, c.masterName);
  const cleanup =
    options.cleanup === false ? [] : GUEST_CLEANUP_STEPS.map(({ name, run }) => ({ name, run }));
  const allSteps = [...steps, ...cleanup];
  const script = postInstallScript(allSteps, { hypervisor: 'libvirt' });
  if (!ctx.realGuests) {
    throw new VmkitError(
      'UNSUPPORTED',
      'post-install steps need a guest that runs; this libvirt driver (the test driver) runs none',
    );
  }
  await removePostInstallBoot(ctx, names);
  try {
    const { buildConfigDrive } = await import('@vmkit/imaging');
    const drive = await buildConfigDrive({
      format: 'nocloud',
      // Its own instance id per boot: cloud-init runs a user-data script once per instance, so
      // the post-install boot after install-agent's would otherwise run nothing.
      instanceId: `vmkit-post-install-${c.masterName}-${randomBytes(4).toString('hex')}`,
      userData: script,
      metaData: { 'vmkit-post-install': true },
    });
    await ctx.storage.createWithData(names.drive, drive, { signal: c.signal });
    c.progress(0.05, `config drive with ${steps.length} step(s) uploaded`);
    const pool = ctx.storage.name;
    const firmware = await domainFirmware(ctx, master.nvramVolume);
    const xml = buildDomainXml({
      ...(firmware ? { firmware } : {}),
      name: names.domain,
      type: ctx.domainType,
      machine: ctx.options.machine,
      arch: ctx.arch,
      memoryMiB: c.spec.hardware?.ramMiB ?? 256,
      vcpus: c.spec.hardware?.cores ?? 1,
      boot: await nodeBoot(ctx, master),
      disks: [
        { pool, volume: master.volume, format: master.format, role: 'disk' },
        { pool, volume: names.drive, format: 'raw', role: 'cdrom' },
      ],
      // One NAT NIC without forwards, so steps can reach the network.
      nics: [{ slot: 0, attachment: 'nat', mac: randomMac(), portForwards: [] }],
      qemuCommandLine: ctx.qemuCommandLine,
      consoleLog: `${await ctx.storage.targetPath()}/${names.consoleLog}`,
      metadata: renderBuildDomainMetadata(names.domain, c.spec.id, master.volume, 'post-install'),
    });
    const dom = await ctx.client.domains.defineXml(xml);
    const ms = await runInstallerToCompletion(ctx, dom, {
      signal: c.signal,
      timeoutMs: ctx.options.postInstallTimeoutMs,
      expectedMs: 15_000 + 2_000 * allSteps.length,
      label: 'post-install boot',
      progress: (f, m) => c.progress(0.1 + 0.8 * f, m),
    });
    const text = (await readConsoleLog(ctx, names.consoleLog, POST_INSTALL_CONSOLE_BYTES)) ?? '';
    const report = readPostInstallConsole(text, allSteps);
    assertPostInstallSucceeded(report);
    c.logger.info('libvirt post-install finished', { master: c.masterName, steps: report.succeeded, ms });
    c.progress(1, `post-install: ${steps.length} step(s) succeeded`);
    return { cleanup: readGuestCleanup(text), console: text };
  } finally {
    await removePostInstallBoot(ctx, names);
  }
}
