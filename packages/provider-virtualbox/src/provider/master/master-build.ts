import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnswerSession, MasterSpec } from '@vmkit/core/spi';
import {
  type BuildStep,
  GROWING_VOLUME_FLOOR_BYTES,
  type MasterBuild,
  type MasterRef,
  reportGuestCleanup,
  VmkitError,
} from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import { waitProgress } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { isNotFound } from '../../soap/errors.js';
import { assertMachineFolderFits } from '../host/machine-folder-space.js';
import { removeMachine } from '../node/machine-removal.js';
import { MASTER_SNAPSHOT, masterMachineName, powerOptions, type VboxContext } from '../virtualbox-context.js';
import { deleteBootIsoMaster, prepareBootIsoMaster } from './boot-iso-master.js';
import { type BuildState, initialBuildState, type VboxBuildContext } from './build-state.js';
import { installAgent } from './install-agent.js';
import {
  answeredInstallerIso,
  attachAnswersDrive,
  closeNatToAnswers,
  openInstallerAnswers,
  openNatToAnswers,
  removeAnsweredIso,
  removeAnswersDrive,
  writeAnswersDrive,
} from './installer-answers.js';
import { installAndWait } from './master-install.js';
import { type MasterMachineParts, registerMasterMachine } from './master-machine.js';
import { runPostInstall } from './master-post-install.js';
import { isInsideFolder } from './master-ref-check.js';
import { localSource, prepareDisk, withKernelParams } from './master-source.js';
import { closeInstallerIso, detachIsos, detachNics, snapshot } from './master-steps.js';
import { postInstallScript } from './post-install-script.js';
import { typeVboxBootCommand } from './type-boot-command.js';

/** What a master reference carries. */
export interface VboxMasterData {
  readonly machine: string;
  readonly snapshot: string;
  /** The master's base disk. */
  readonly disk: string;
  /** Whether vmkit made the disk (and deletes it with the master) or opened the user's file. */
  readonly ownsDisk: boolean;
  /** Memory of the master (clones inherit it; a node asking for the same needs no change). */
  readonly ramMiB?: number;
  /** CPUs of the master. */
  readonly cores?: number;
  /** A `bootIso` master: the ISO nodes boot live from (no machine, snapshot or disk: those are empty). */
  readonly bootIso?: string;
  /** Whether vmkit made the boot ISO (a remastered copy, deleted with the master) or it is the user's. */
  readonly ownsIso?: boolean;
}

/**
 * The reference of a master machine whose disk vmkit made in the machine folder (an imported
 * disk, an image made from a node): its snapshot, that disk, and the spec's memory and CPUs.
 */
export function ownDiskMasterRef(machine: string, disk: string, spec: MasterSpec): MasterRef {
  const data: VboxMasterData = {
    machine,
    snapshot: MASTER_SNAPSHOT,
    disk,
    ownsDisk: true,
    ...masterHardware(spec),
  };
  return { id: machine, data: { ...data } };
}

/** The machine name a master reference points at. */
export function masterMachineOf(ref: MasterRef): string {
  return (ref.data as Partial<VboxMasterData> | undefined)?.machine ?? ref.id;
}

/** Memory and CPUs a master is given. */
export function masterHardware(spec: MasterSpec): { ramMiB: number; cores: number } {
  return { ramMiB: spec.hardware?.ramMiB ?? 512, cores: spec.hardware?.cores ?? 1 };
}

/** What a master machine is made with: its memory and CPUs, and its firmware (not kept in its reference). */
export function masterMachineHardware(spec: MasterSpec): MasterMachineParts['hardware'] {
  return { ...masterHardware(spec), firmware: spec.hardware?.firmware ?? 'bios' };
}

const GiB = 1024 ** 3;

async function createAndInstall(ctx: VboxContext, c: VboxBuildContext, spec: MasterSpec): Promise<void> {
  const s = c.state;
  if (s.installed) return c.progress(1, 'already installed');
  if (spec.source.type === 'bootIso')
    return prepareBootIsoMaster(ctx, c, spec.source, (spec.postInstall?.length ?? 0) > 0);
  if (spec.source.type === 'kernel')
    throw new VmkitError(
      'UNSUPPORTED',
      "source.type: 'kernel' cannot be built on VirtualBox (it has no direct kernel boot); use a 'disk' or 'iso' source",
      { details: { field: 'source.type' } },
    );
  if (spec.source.type === 'box')
    throw new VmkitError(
      'UNSUPPORTED',
      "source.type: 'box' is read by the compute service's sources.box reader into a 'disk' source before a build",
      { details: { field: 'source.type' } },
    );
  const finished = spec.source.type === 'iso' ? spec.source.installFinished : undefined;
  if (finished !== undefined && finished !== 'poweroff')
    throw new VmkitError(
      'UNSUPPORTED',
      "source.installFinished: the VirtualBox provider takes only 'poweroff' (the installer's own power-off)",
      { details: { field: 'source.installFinished' } },
    );
  // Refuse step names and scripts the post-install script cannot carry before anything is made.
  if (spec.postInstall?.length) postInstallScript(spec.postInstall);
  // Answer files are read and checked before anything is made; the session lives as long as the install.
  const answers = spec.source.type === 'iso' ? await openInstallerAnswers(c) : undefined;
  try {
    await createAndInstallWith(ctx, c, spec, answers);
  } finally {
    await answers?.close();
  }
  s.installed = true;
  c.progress(1, s.iso ? 'installed from ISO' : 'disk attached');
}

async function createAndInstallWith(
  ctx: VboxContext,
  c: VboxBuildContext,
  spec: MasterSpec,
  answers: AnswerSession | undefined,
): Promise<void> {
  const s = c.state;
  const name = masterMachineName(ctx.options.namePrefix, c.masterName);
  const srcCtx = {
    machineFolder: ctx.options.machineFolder,
    qemuImg: ctx.options.qemuImg,
    base: name,
    signal: c.signal,
  };
  await mkdir(ctx.options.machineFolder, { recursive: true, mode: 0o700 });
  if (spec.source.type === 'disk') s.disk = await prepareDisk(spec.source, srcCtx);
  else if (spec.source.type === 'iso') {
    const iso = await localSource(spec.source, srcCtx, 'iso');
    const params =
      spec.source.kernelParams === undefined
        ? undefined
        : (answers?.expand(spec.source.kernelParams, 'source.kernelParams') ?? spec.source.kernelParams);
    const answered = answers
      ? await answeredInstallerIso(ctx, c, answers, iso, params ?? '', name)
      : undefined;
    if (answered) s.answeredIso = answered.path;
    s.iso =
      answered ?? (params === undefined ? iso : await withKernelParams(iso, params, srcCtx, ctx.bootIsos));
  }
  if (answers && !s.answersDrive) s.answersDrive = await writeAnswersDrive(ctx, c, answers, name);
  c.progress(0.2, 'source ready');
  // An installer's disk is a dynamic VDI that grows as the installer writes.
  if (!s.disk)
    await assertMachineFolderFits(ctx, [{ what: `disk of ${name}`, bytes: GROWING_VOLUME_FLOOR_BYTES }]);
  await ctx.conn.run(`creating master ${name}`, async (api) => {
    let disk: vbox.IMedium;
    if (s.disk)
      disk = await api.vbox.openMedium(
        s.disk.path,
        'HardDisk' as vbox.DeviceType,
        'ReadWrite' as vbox.AccessMode,
        false,
      );
    else {
      const path = join(ctx.options.machineFolder, `${name}.vdi`);
      disk = await api.vbox.createMedium(
        'VDI',
        path,
        'ReadWrite' as vbox.AccessMode,
        'HardDisk' as vbox.DeviceType,
      );
      const size = (spec.hardware?.diskGiB ?? 8) * GiB;
      s.disk = { path, owned: true };
      s.pending = await disk.createBaseStorage(size, ['Standard' as vbox.MediumVariant]);
      await waitProgress(s.pending, 'creating the master disk', c.signal);
      s.pending = undefined;
    }
    const machine = await registerMasterMachine(
      ctx,
      api,
      name,
      {
        disk,
        hardware: masterMachineHardware(spec),
        ...(s.iso ? { iso: s.iso.path } : {}),
        signal: c.signal,
      },
      () => {
        s.machine = name;
      },
    );
    const http = answers?.server !== undefined;
    let failed = true;
    try {
      if (http) await openNatToAnswers(ctx, api, machine, c.signal);
      if (s.answersDrive) await attachAnswersDrive(ctx, api, machine, s.answersDrive, c.signal);
      if (s.iso)
        await installAndWait(ctx, api, machine, c, { what: 'installer', name }, async () => {
          if (answers) await typeVboxBootCommand(ctx, api, machine, c, answers);
        });
      failed = false;
    } finally {
      // The answers served the installer only: gone when it ends, however it ends.
      await removeInstallerAnswers(ctx, api, machine, s);
      // A failed build is discarded with its machine; a finished one must not keep the loopback open.
      if (http)
        await closeNatToAnswers(ctx, api, machine).catch((error: unknown) => {
          if (!failed) throw error;
        });
    }
  });
}

/** The answers drive and the answered installer ISO, detached, closed and deleted (each once). */
async function removeInstallerAnswers(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine | undefined,
  s: BuildState,
): Promise<void> {
  if (s.answersDrive) {
    await removeAnswersDrive(ctx, api, machine, s.answersDrive);
    s.answersDrive = undefined;
  }
  if (s.answeredIso) {
    await removeAnsweredIso(ctx, api, machine, s.answeredIso);
    s.answeredIso = undefined;
  }
}

/**
 * Plans a master build: `create-and-install` opens the disk (converting qcow2/raw to VDI) or
 * creates one and boots the installer ISO until the guest powers off; `post-install` boots the
 * master once with a NoCloud drive whose user data runs the spec's steps and then the guest
 * clean-up (see {@link runPostInstall}), which `clean-udev-rules` and `reset-identity` report;
 * `detach-isos` and `detach-nics` clear the build devices; `snapshot` (after the standard steps)
 * takes the snapshot linked clones need. `install-agent` installs the Guest Additions from the
 * host's ISO by one boot (see {@link installAgent}), or reports itself skipped with the reason.
 */
export function planVirtualBoxMasterBuild(
  getContext: () => Promise<VboxContext>,
  spec: MasterSpec,
): MasterBuild<BuildState> {
  const work: Record<string, (ctx: VboxContext, c: VboxBuildContext) => Promise<void>> = {
    'create-and-install': (ctx, c) => createAndInstall(ctx, c, spec),
    'install-agent': async (ctx, c) =>
      c.state.machine ? installAgent(ctx, c, spec, c.state.machine) : c.markSkipped('no master machine'),
    'post-install': async (ctx, c) => {
      const s = c.state;
      if (s.postInstalled || !s.machine)
        return c.markSkipped(s.postInstalled ? 'already ran in this build' : 'no master machine');
      s.guestCleanup = await runPostInstall(ctx, c, spec, s.machine);
      s.postInstalled = true;
    },
    'clean-udev-rules': async (_ctx, c) => reportGuestCleanup(c, c.state.guestCleanup, 'clean-udev-rules'),
    'reset-identity': async (_ctx, c) => reportGuestCleanup(c, c.state.guestCleanup, 'reset-identity'),
    'detach-isos': detachIsos,
    'detach-nics': detachNics,
    snapshot,
  };
  const steps: BuildStep<BuildState>[] = Object.entries(work).map(([name, fn]) => ({
    name,
    run: async (c) => {
      if (spec.source.type === 'bootIso' && name !== 'create-and-install')
        return c.markSkipped('a bootIso master is the ISO itself: no machine to change or snapshot');
      await fn(await getContext(), c);
    },
  }));
  return {
    initialState: initialBuildState,
    steps,
    async finish(c): Promise<MasterRef> {
      const s = c.state;
      if (s.bootIso && s.machine) {
        const data: VboxMasterData = {
          machine: s.machine,
          snapshot: '',
          disk: '',
          ownsDisk: false,
          bootIso: s.bootIso.path,
          ownsIso: s.bootIso.owned,
        };
        return { id: s.machine, data: { ...data } };
      }
      if (!s.machine || !s.disk) throw new VmkitError('PROVIDER', `master ${c.masterName} was not created`);
      const data: VboxMasterData = {
        machine: s.machine,
        snapshot: MASTER_SNAPSHOT,
        disk: s.disk.path,
        ownsDisk: s.disk.owned,
        ...masterHardware(spec),
      };
      return { id: s.machine, data: { ...data } };
    },
    async discard(c): Promise<void> {
      const ctx = await getContext();
      const s = c.state;
      if (s.bootIso) return deleteBootIsoMaster(ctx, s.bootIso);
      const name = masterMachineName(ctx.options.namePrefix, c.masterName);
      await s.pending?.waitForCompletion(-1).catch(() => {});
      const keep = s.disk && !s.disk.owned ? [s.disk.path] : [];
      await deleteMasterMachine(ctx, name, keep, s.disk?.owned ? [s.disk.path] : []);
      await closeInstallerIso(ctx, c);
      if (s.answersDrive || s.answeredIso)
        await ctx.conn.run('removing the installer answers', (api) =>
          removeInstallerAnswers(ctx, api, undefined, s),
        );
      for (const f of [s.disk, s.iso]) if (f?.owned) await rm(f.path, { force: true });
      if (s.postInstallDrive) await rm(s.postInstallDrive, { force: true });
    },
  };
}

/**
 * Removes a master machine (never a disk that is the user's); gone is fine. Whatever names it,
 * only a machine named as a master with the prefix (`<prefix>m-…`) is touched, and of the disks
 * it returns only those inside the machine folder are deleted (the others are closed and kept).
 */
export async function deleteMasterMachine(
  ctx: VboxContext,
  name: string,
  keepDisks: readonly string[],
  ownedDisks: readonly string[] = [],
): Promise<void> {
  if (!name.startsWith(masterMachineName(ctx.options.namePrefix, '')))
    throw new VmkitError(
      'CORRUPT',
      `master.data.machine: '${name}' is not a master vmkit made (no '${masterMachineName(ctx.options.namePrefix, '')}' prefix): not touched`,
      { details: { field: 'master.data.machine' } },
    );
  const own = (path: string) => isInsideFolder(ctx.options.machineFolder, path) && !keepDisks.includes(path);
  await ctx.conn.run(
    `deleting master ${name}`,
    async (api) => {
      let machine: vbox.IMachine | undefined;
      try {
        machine = await api.vbox.findMachine(name);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        machine = undefined;
      }
      if (machine) await removeMachine(ctx.conn, api, machine, { ...powerOptions(ctx, undefined, 0), own });
      for (const path of ownedDisks.filter(own)) {
        try {
          const disk = await api.vbox.openMedium(
            path,
            'HardDisk' as vbox.DeviceType,
            'ReadWrite' as vbox.AccessMode,
            false,
          );
          await waitProgress(await disk.deleteStorage(), `deleting ${path}`);
        } catch {
          // Not registered and no file: already gone.
        }
      }
    },
    true,
  );
}
