import type { BuildContext, BuildStep, MasterBuild, MasterRef, MasterSpec } from '@vmkit/core';
import { STANDARD_BUILD_STEPS, VmkitError } from '@vmkit/core';
import { readConsoleLog } from './console-log.js';
import { removeDomain } from './domain-removal.js';
import { buildDomainXml, type DomainBoot, type DomainDisk } from './domain-xml.js';
import { runInstallerToCompletion } from './installer-run.js';
import type { LibvirtContext, LibvirtMasterData } from './libvirt-context.js';
import { postInstallNames, removePostInstallBoot, runPostInstall } from './master-post-install.js';
import { localFile, prepareDisk, uploadBootIso, verifySha256, withKernelParams } from './master-source.js';
import { renderBuildDomainMetadata } from './node-metadata.js';

const GiB = 1024 ** 3;

/** Names of what a master build makes, from the master's name. */
export function masterNames(prefix: string, masterName: string) {
  const base = `${prefix}m-${masterName}`;
  return {
    volume: `${base}.qcow2`,
    kernel: `${base}.vmlinuz`,
    initrd: `${base}.initrd`,
    iso: `${base}.iso`,
    installer: `${prefix}install-${masterName}`,
    consoleLog: `${prefix}install-${masterName}.log`,
  };
}

interface BuildState {
  volumes: string[];
  data?: LibvirtMasterData;
  installer?: string;
  /** Set once the post-install steps ran; a second run of the step does nothing. */
  postInstalled?: boolean;
}

function state(ctx: BuildContext): BuildState {
  let s = ctx.state.get('libvirt') as BuildState | undefined;
  if (!s) {
    s = { volumes: [] };
    ctx.state.set('libvirt', s);
  }
  return s;
}

/**
 * Plans a master build: `create-and-install` imports the disk (uploaded into the pool through the
 * storage API) or runs the installer domain (kernel or ISO boot) until it powers off;
 * `post-install` boots the master once with a NoCloud drive whose user data runs the spec's steps
 * (see {@link runPostInstall}); the other standard steps have nothing to do for these guests.
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
    return { name, run: async (c: BuildContext) => c.progress(1, `${name}: nothing to do`) };
  });
  return {
    steps,
    async finish(c): Promise<MasterRef> {
      const s = state(c);
      if (!s.data) throw new VmkitError('PROVIDER', `master ${c.masterName} was not created`);
      const ctx = await getContext();
      if (s.installer) await removeDomain(ctx, s.installer);
      s.installer = undefined;
      return { id: s.data.volume, data: s.data };
    },
    async discard(c): Promise<void> {
      const ctx = await getContext();
      const s = state(c);
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
  const s = state(c);
  if (steps.length > 0 && spec.source.type === 'bootIso')
    throw new VmkitError(
      'UNSUPPORTED',
      'postInstall: a bootIso master is a live ISO; it has no disk to run steps on',
    );
  if (steps.length === 0 || s.postInstalled) {
    c.progress(1, 'post-install: nothing to do');
    return;
  }
  if (!s.data) throw new VmkitError('PROVIDER', `master ${c.masterName} was not created`);
  await runPostInstall(ctx, c, s.data, steps);
  s.postInstalled = true;
}

async function createAndInstall(ctx: LibvirtContext, c: BuildContext): Promise<void> {
  const s = state(c);
  const names = masterNames(ctx.options.namePrefix, c.masterName);
  const source = c.spec.source;
  const pool = ctx.storage.name;
  s.postInstalled = false;
  // Re-runnable: start from a clean slate.
  for (const v of [names.volume, names.kernel, names.initrd, names.iso, names.consoleLog])
    await ctx.storage.delete(v);
  await removeDomain(ctx, names.installer);
  const track = (name: string) => s.volumes.push(name);
  if (source.type === 'bootIso') {
    s.data = await uploadBootIso(ctx, c, source, names.iso, track);
    return;
  }
  if (source.type === 'disk') {
    const local = await localFile(source, 'source', c.signal);
    try {
      await verifySha256(local.file, source.sha256);
      const disk = await prepareDisk(local.file, source.format);
      try {
        c.progress(0.1, `uploading ${disk.format} disk`);
        track(names.volume);
        await ctx.storage.createFromFile(names.volume, disk.file, disk.format, disk.virtualSize, {
          signal: c.signal,
          onBytes: (n) =>
            c.progress(0.1 + 0.85 * Math.min(1, n / Math.max(1, disk.virtualSize)), `uploaded ${n} bytes`),
        });
        s.data = {
          pool,
          volume: names.volume,
          format: disk.format,
          capacityBytes: disk.virtualSize,
          boot: 'disk',
          volumes: [names.volume],
        };
      } finally {
        await disk.cleanup();
      }
    } finally {
      await local.cleanup();
    }
    return;
  }
  const capacityBytes = Math.round((c.spec.hardware?.diskGiB ?? 1) * GiB);
  track(names.volume);
  await ctx.storage.create({ name: names.volume, capacityBytes, format: 'qcow2' });
  const volumes = [names.volume];
  let boot: DomainBoot;
  const disks: DomainDisk[] = [{ pool, volume: names.volume, format: 'qcow2', role: 'disk' }];
  let kernel: Pick<
    LibvirtMasterData,
    'kernelVolume' | 'initrdVolume' | 'kernelPath' | 'initrdPath' | 'cmdline'
  > = {};
  if (source.type === 'kernel') {
    const cmdline = source.cmdline ?? '';
    const paths = await uploadBootFiles(ctx, source.kernel, source.initrd, names, track, c);
    boot = { kind: 'kernel', kernel: paths.kernel, initrd: paths.initrd, cmdline };
    kernel = { ...paths.ref, cmdline: ctx.options.nodeCmdline(cmdline) };
    volumes.push(...paths.volumes);
  } else {
    const local = await localFile(source, 'source', c.signal);
    try {
      await verifySha256(local.file, source.sha256);
      const iso = await withKernelParams(local.file, source.kernelParams, c.signal);
      try {
        track(names.iso);
        await ctx.storage.createFromFile(names.iso, iso.file, 'raw', 0, { signal: c.signal });
      } finally {
        await iso.cleanup();
      }
    } finally {
      await local.cleanup();
    }
    disks.push({ pool, volume: names.iso, format: 'raw', role: 'cdrom' });
    boot = { kind: 'cdrom' };
  }
  // The installer's console goes to a file in the pool, read back through the storage API.
  const consoleLog = ctx.realGuests ? `${await ctx.storage.targetPath()}/${names.consoleLog}` : undefined;
  // Tracked before the domain exists: whatever fails from here, discard removes the log.
  if (consoleLog) track(names.consoleLog);
  const xml = buildDomainXml({
    ...(consoleLog ? { consoleLog } : {}),
    name: names.installer,
    type: ctx.domainType,
    machine: ctx.options.machine,
    arch: ctx.arch,
    memoryMiB: c.spec.hardware?.ramMiB ?? 256,
    vcpus: c.spec.hardware?.cores ?? 1,
    boot,
    disks,
    nics: [],
    qemuCommandLine: ctx.qemuCommandLine,
    metadata: renderBuildDomainMetadata(names.installer, c.spec.id, names.volume, 'installer'),
  });
  const dom = await ctx.client.domains.defineXml(xml);
  s.installer = names.installer;
  c.progress(0.2, 'installer defined');
  if (ctx.realGuests) {
    const ms = await runInstallerToCompletion(ctx.client, dom, {
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
  // The ISO is needed only by the installer.
  if (source.type === 'iso') await ctx.storage.delete(names.iso);
  s.data = {
    pool,
    volume: names.volume,
    format: 'qcow2',
    capacityBytes,
    boot: source.type === 'kernel' ? 'kernel' : 'disk',
    ...kernel,
    volumes: source.type === 'iso' ? [names.volume] : volumes,
  };
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
    await ctx.storage.delete(logVolume).catch(() => {});
  }
}

async function uploadBootFiles(
  ctx: LibvirtContext,
  kernelFile: string,
  initrdFile: string,
  names: ReturnType<typeof masterNames>,
  track: (name: string) => void,
  c: BuildContext,
) {
  try {
    track(names.kernel);
    const k = await ctx.storage.createFromFile(names.kernel, kernelFile, 'raw', 0, { signal: c.signal });
    track(names.initrd);
    const i = await ctx.storage.createFromFile(names.initrd, initrdFile, 'raw', 0, { signal: c.signal });
    return {
      kernel: await ctx.storage.path(k),
      initrd: await ctx.storage.path(i),
      ref: { kernelVolume: names.kernel, initrdVolume: names.initrd },
      volumes: [names.kernel, names.initrd],
    };
  } catch (error) {
    if (!VmkitError.is(error, 'UNSUPPORTED')) throw error;
    // Drivers without uploads (libvirt's test driver) boot the host's files in place.
    return {
      kernel: kernelFile,
      initrd: initrdFile,
      ref: { kernelPath: kernelFile, initrdPath: initrdFile },
      volumes: [],
    };
  }
}
