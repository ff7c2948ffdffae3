import type { BuildContext, BuildStep, MasterBuild, MasterRef, MasterSpec } from '@vmkit/core/spi';
import {
  type AnswerSession,
  type GuestCleanupStep,
  openAnswerSession,
  reportGuestCleanup,
  VmkitError,
} from '@vmkit/core/spi';
import { deleteLeftoverVolume } from '../host/volume-cleanup.js';
import type { LibvirtContext, LibvirtMasterData } from '../libvirt-context.js';
import { removeDomain } from '../node/domain-removal.js';
import { uploadBootIso } from './boot-iso-source.js';
import { type BuildState, initialBuildState, type MasterNames, masterNames } from './build-state.js';
import { importDisk } from './import-disk.js';
import { installAgent } from './install-agent.js';
import { runInstallerDomain } from './installer-domain.js';
import { prepareInstallerMedia } from './installer-media.js';
import { createMasterNvram, withNvram } from './master-nvram.js';
import { postInstallNames, removePostInstallBoot, runPostInstall } from './master-post-install.js';

/**
 * Plans a master build: `create-and-install` imports the disk (uploaded into the pool through the
 * storage API) or runs the installer domain (kernel or ISO boot) until it powers off;
 * `post-install` boots the master once with a NoCloud drive whose user data runs the spec's steps
 * and then the guest clean-up (see {@link runPostInstall}), which `clean-udev-rules` and
 * `reset-identity` report. `install-agent` boots the master once to install `qemu-guest-agent`
 * when its OS family has a package manager vmkit knows (see `installAgent`), and reports skipped
 * with the reason otherwise. The other standard steps are not supplied (core reports them
 * skipped): a libvirt master is a volume, not a domain (the installer and
 * post-install domains that had CD-ROMs and NICs are removed), so no CD-ROM or NIC stays attached
 * to it. `finish` keeps only the master's volumes.
 */
export function planLibvirtMasterBuild(
  getContext: () => Promise<LibvirtContext>,
  spec: MasterSpec,
  _masterName: string,
): MasterBuild<BuildState> {
  type Step = BuildStep<BuildState>;
  const guestCleanup = (name: GuestCleanupStep): Step => ({
    name,
    run: async (c) => reportGuestCleanup(c, c.state.guestCleanup, name),
  });
  const steps: Step[] = [
    { name: 'create-and-install', run: async (c) => createAndInstall(await getContext(), c) },
    { name: 'install-agent', run: async (c) => installAgent(await getContext(), c, spec) },
    { name: 'post-install', run: async (c) => postInstall(await getContext(), c, spec) },
    guestCleanup('clean-udev-rules'),
    guestCleanup('reset-identity'),
  ];
  return {
    initialState: initialBuildState,
    steps,
    async finish(c): Promise<MasterRef> {
      const s = c.state;
      if (!s.data) throw new VmkitError('PROVIDER', `master ${c.masterName} was not created`);
      const ctx = await getContext();
      if (s.installer) await removeDomain(ctx, s.installer);
      s.installer = undefined;
      // The installer's console log was the build's artefact until now.
      const { consoleLog } = masterNames(ctx.options.namePrefix, c.masterName);
      if (ctx.realGuests) await deleteLeftoverVolume(ctx, consoleLog, 'finishing the build');
      return { id: s.data.volume, data: s.data };
    },
    async discard(c): Promise<void> {
      const ctx = await getContext();
      const s = c.state;
      if (s.installer) await removeDomain(ctx, s.installer);
      // Console logs are written by QEMU, not through libvirt: rescan so they are volumes.
      await ctx.storage.refresh().catch(() => {});
      await removePostInstallBoot(ctx, postInstallNames(ctx.options.namePrefix, c.masterName));
      for (const v of s.volumes)
        await deleteLeftoverVolume(ctx, v, `discarding the build of ${c.masterName}`);
      s.volumes = [];
    },
  };
}

/**
 * The `post-install` step: boots the master once to run the spec's steps (see
 * {@link runPostInstall}). Nothing to do without steps; done once per build (a failed run is not
 * retried on the half-changed disk: the build fails and `discard` removes the master).
 */
async function postInstall(
  ctx: LibvirtContext,
  c: BuildContext<BuildState>,
  spec: MasterSpec,
): Promise<void> {
  const steps = spec.postInstall ?? [];
  const s = c.state;
  if (steps.length > 0 && spec.source.type === 'bootIso')
    throw new VmkitError(
      'UNSUPPORTED',
      'postInstall: a bootIso master is a live ISO; it has no disk to run steps on',
    );
  if (steps.length === 0 || s.postInstalled) {
    c.markSkipped(steps.length === 0 ? 'the spec has no post-install steps' : 'already ran in this build');
    return;
  }
  if (!s.data) throw new VmkitError('PROVIDER', `master ${c.masterName} was not created`);
  s.guestCleanup = (await runPostInstall(ctx, c, s.data, steps)).cleanup;
  s.postInstalled = true;
}

async function createAndInstall(ctx: LibvirtContext, c: BuildContext<BuildState>): Promise<void> {
  const s = c.state;
  const names = masterNames(ctx.options.namePrefix, c.masterName);
  s.postInstalled = false;
  s.guestCleanup = undefined;
  // Answer files are read and checked before anything is made; the server lives as long as the install.
  const answers = await openAnswerSession(c.spec, { logger: c.logger, label: c.masterName });
  try {
    await createAndInstallWith(ctx, c, names, answers);
  } finally {
    await answers.close();
  }
}

async function createAndInstallWith(
  ctx: LibvirtContext,
  c: BuildContext<BuildState>,
  names: MasterNames,
  answers: AnswerSession,
): Promise<void> {
  const s = c.state;
  const source = c.spec.source;
  const oneShot = [names.answersInitrd, names.answersDrive];
  // Re-runnable: start from a clean slate.
  for (const v of [
    names.volume,
    names.kernel,
    names.initrd,
    names.iso,
    names.consoleLog,
    names.nvram,
    ...oneShot,
  ])
    await ctx.storage.delete(v);
  await removeDomain(ctx, names.installer);
  const nvram =
    c.spec.hardware?.firmware === 'efi'
      ? await createMasterNvram(ctx, names, (v) => s.volumes.push(v), c.signal)
      : undefined;
  if (source.type === 'bootIso') {
    s.data = withNvram(await uploadBootIso(ctx, c, source, names.iso, (v) => s.volumes.push(v)), nvram);
    return;
  }
  if (source.type === 'disk') {
    await importDisk(ctx, c, names, s);
    if (s.data) s.data = withNvram(s.data, nvram);
    return;
  }
  const media = await prepareInstallerMedia(ctx, c, names, (v) => s.volumes.push(v), answers);
  await runInstallerDomain(ctx, c, names, s, media, nvram, answers);
  // The ISO and the answers are needed only by the installer.
  if (source.type === 'iso') await ctx.storage.delete(names.iso);
  for (const v of oneShot) await ctx.storage.delete(v);
  const data: LibvirtMasterData = {
    pool: ctx.storage.name,
    volume: names.volume,
    format: 'qcow2',
    capacityBytes: media.capacityBytes,
    boot: source.type === 'kernel' ? 'kernel' : 'disk',
    ...media.kernel,
    volumes: source.type === 'iso' ? [names.volume] : media.volumes,
  };
  s.data = withNvram(data, nvram);
}
