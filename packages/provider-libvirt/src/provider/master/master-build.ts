import type { BuildContext, BuildStep, MasterBuild, MasterRef, MasterSpec } from '@vmkit/core/spi';
import { reportGuestCleanup, STANDARD_BUILD_STEPS, VmkitError } from '@vmkit/core/spi';
import type { LibvirtContext } from '../libvirt-context.js';
import { removeDomain } from '../node/domain-removal.js';
import { uploadBootIso } from './boot-iso-source.js';
import { buildState, masterNames } from './build-state.js';
import { importDisk } from './import-disk.js';
import { runInstallerDomain } from './installer-domain.js';
import { prepareInstallerMedia } from './installer-media.js';
import { postInstallNames, removePostInstallBoot, runPostInstall } from './master-post-install.js';

/**
 * Why the standard steps this provider does not act on are skipped: a libvirt master is a volume,
 * not a domain (the installer and post-install domains that had CD-ROMs and NICs are removed),
 * so no CD-ROM or NIC stays attached to it.
 */
const SKIP_REASONS: Readonly<Record<string, string>> = {
  'install-agent': 'no guest agent is configured for libvirt masters',
  'detach-isos': 'a libvirt master is a volume: no CD-ROM stays attached to it',
  'detach-nics': 'a libvirt master is a volume: no NIC stays attached to it',
};

/**
 * Plans a master build: `create-and-install` imports the disk (uploaded into the pool through the
 * storage API) or runs the installer domain (kernel or ISO boot) until it powers off;
 * `post-install` boots the master once with a NoCloud drive whose user data runs the spec's steps
 * and then the guest clean-up (see {@link runPostInstall}), which `clean-udev-rules` and
 * `reset-identity` report; the other standard steps have nothing to do for these masters.
 * `finish` keeps only the master's volumes.
 */
export function planLibvirtMasterBuild(
  getContext: () => Promise<LibvirtContext>,
  spec: MasterSpec,
  _masterName: string,
): MasterBuild {
  const steps: BuildStep[] = STANDARD_BUILD_STEPS.map((name) => {
    if (name === 'create-and-install')
      return { name, run: async (c: BuildContext) => createAndInstall(await getContext(), c) };
    if (name === 'post-install')
      return { name, run: async (c: BuildContext) => postInstall(await getContext(), c, spec) };
    if (name === 'clean-udev-rules' || name === 'reset-identity')
      return {
        name,
        run: async (c: BuildContext) => reportGuestCleanup(c, buildState(c).guestCleanup, name),
      };
    return {
      name,
      run: async (c: BuildContext) => c.markSkipped(SKIP_REASONS[name] ?? 'nothing to do for this guest'),
    };
  });
  return {
    steps,
    async finish(c): Promise<MasterRef> {
      const s = buildState(c);
      if (!s.data) throw new VmkitError('PROVIDER', `master ${c.masterName} was not created`);
      const ctx = await getContext();
      if (s.installer) await removeDomain(ctx, s.installer);
      s.installer = undefined;
      return { id: s.data.volume, data: s.data };
    },
    async discard(c): Promise<void> {
      const ctx = await getContext();
      const s = buildState(c);
      if (s.installer) await removeDomain(ctx, s.installer);
      // Console logs are written by QEMU, not through libvirt: rescan so they are volumes.
      await ctx.storage.refresh().catch(() => {});
      await removePostInstallBoot(ctx, postInstallNames(ctx.options.namePrefix, c.masterName));
      for (const v of s.volumes) await ctx.storage.delete(v).catch(() => {});
      s.volumes = [];
    },
  };
}

/**
 * The `post-install` step: boots the master once to run the spec's steps (see
 * {@link runPostInstall}). Nothing to do without steps; done once per build (a failed run is not
 * retried on the half-changed disk: the build fails and `discard` removes the master).
 */
async function postInstall(ctx: LibvirtContext, c: BuildContext, spec: MasterSpec): Promise<void> {
  const steps = spec.postInstall ?? [];
  const s = buildState(c);
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
  s.guestCleanup = await runPostInstall(ctx, c, s.data, steps);
  s.postInstalled = true;
}

async function createAndInstall(ctx: LibvirtContext, c: BuildContext): Promise<void> {
  const s = buildState(c);
  const names = masterNames(ctx.options.namePrefix, c.masterName);
  const source = c.spec.source;
  s.postInstalled = false;
  s.guestCleanup = undefined;
  // Re-runnable: start from a clean slate.
  for (const v of [names.volume, names.kernel, names.initrd, names.iso, names.consoleLog])
    await ctx.storage.delete(v);
  await removeDomain(ctx, names.installer);
  if (source.type === 'bootIso') {
    s.data = await uploadBootIso(ctx, c, source, names.iso, (v) => s.volumes.push(v));
    return;
  }
  if (source.type === 'disk') return importDisk(ctx, c, names, s);
  const media = await prepareInstallerMedia(ctx, c, names, (v) => s.volumes.push(v));
  await runInstallerDomain(ctx, c, names, s, media);
  // The ISO is needed only by the installer.
  if (source.type === 'iso') await ctx.storage.delete(names.iso);
  s.data = {
    pool: ctx.storage.name,
    volume: names.volume,
    format: 'qcow2',
    capacityBytes: media.capacityBytes,
    boot: source.type === 'kernel' ? 'kernel' : 'disk',
    ...media.kernel,
    volumes: source.type === 'iso' ? [names.volume] : media.volumes,
  };
}
