import type { BuildContext, BuildStep, MasterBuild, MasterRef, MasterSpec } from '@vmkit/core';
import { STANDARD_BUILD_STEPS, VmkitError } from '@vmkit/core';
import { buildDomainXml, type DomainBoot, type DomainDisk } from './domain-xml.js';
import { runInstallerToCompletion } from './installer-run.js';
import type { LibvirtContext, LibvirtMasterData } from './libvirt-context.js';
import { localFile, prepareDisk, verifySha256 } from './master-source.js';
import { renderNodeMetadata } from './node-metadata.js';

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
 * storage API) or runs the installer domain (kernel or ISO boot) until it powers off; the other
 * standard steps have nothing to do for these guests, except `post-install`, which needs a guest
 * channel this provider does not have yet. `finish` keeps only the master's volumes.
 */
export function planLibvirtMasterBuild(
  getContext: () => Promise<LibvirtContext>,
  spec: MasterSpec,
  masterName: string,
): MasterBuild {
  const steps: BuildStep[] = STANDARD_BUILD_STEPS.map((name) => {
    if (name === 'create-and-install')
      return { name, run: async (c: BuildContext) => createAndInstall(await getContext(), c) };
    if (name === 'post-install') {
      return {
        name,
        run: async () => {
          if ((spec.postInstall ?? []).length > 0) {
            throw new VmkitError(
              'UNSUPPORTED',
              'post-install steps need a guest channel (agent or ssh) that the libvirt provider does not have yet',
            );
          }
        },
      };
    }
    return { name, run: async (c: BuildContext) => c.progress(1, `${name}: nothing to do`) };
  });
  void masterName;
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
      for (const v of s.volumes) await ctx.storage.delete(v).catch(() => {});
      s.volumes = [];
    },
  };
}

async function createAndInstall(ctx: LibvirtContext, c: BuildContext): Promise<void> {
  const s = state(c);
  const names = masterNames(ctx.options.namePrefix, c.masterName);
  const source = c.spec.source;
  const pool = ctx.storage.name;
  // Re-runnable: start from a clean slate.
  for (const v of [names.volume, names.kernel, names.initrd, names.iso, names.consoleLog])
    await ctx.storage.delete(v);
  await removeDomain(ctx, names.installer);
  const track = (name: string) => s.volumes.push(name);
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
      track(names.iso);
      await ctx.storage.createFromFile(names.iso, local.file, 'raw', 0, { signal: c.signal });
    } finally {
      await local.cleanup();
    }
    disks.push({ pool, volume: names.iso, format: 'raw', role: 'cdrom' });
    boot = { kind: 'cdrom' };
  }
  // The installer's console goes to a file in the pool, read back through the storage API.
  const consoleLog = ctx.realGuests ? `${await ctx.storage.targetPath()}/${names.consoleLog}` : undefined;
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
    metadata: renderNodeMetadata({
      kind: 'installer',
      name: names.installer,
      group: '',
      imageId: c.spec.id,
      hardware: { id: 'installer', cores: 1, ramMiB: 256, diskGiB: 1 },
      network: { nics: [] },
      tags: [],
      userMetadata: {},
      linkedClone: false,
      createdAt: new Date().toISOString(),
      volumes: [],
      master: names.volume,
    }),
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
    track(names.consoleLog);
    await checkInstallerConsole(ctx, names.consoleLog);
  } else {
    // libvirt's test driver runs no guest: start and stop the installer to exercise the calls.
    await ctx.client.domains.create(dom);
    await ctx.client.domains.destroy(dom);
  }
  if (ISO_ONLY_DURING_INSTALL && source.type === 'iso') {
    await ctx.storage.delete(names.iso);
  }
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

const ISO_ONLY_DURING_INSTALL = true;

/** Markers on an installer's console that mean the installation failed. */
const INSTALL_FAILURE = /VMKIT-INSTALL-FAILED[^\n]*|Kernel panic[^\n]*|VMKIT-TIMEOUT[^\n]*/;

/**
 * Reads the installer's console log (a file in the pool, fetched with `STORAGE_VOL_DOWNLOAD`) and
 * throws `PROVIDER` with the failure line when the guest reported a failed installation. The log
 * volume is deleted either way.
 */
async function checkInstallerConsole(ctx: LibvirtContext, logVolume: string): Promise<void> {
  const pool = await ctx.storage.pool();
  await ctx.client.storage.poolRefresh(pool);
  const vol = await ctx.storage.find(logVolume);
  if (!vol) return;
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of await ctx.client.storage.volDownload(vol)) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const failure = INSTALL_FAILURE.exec(text);
    if (failure) {
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

/** Powers off and undefines a domain; absent is not an error. */
export async function removeDomain(ctx: LibvirtContext, name: string): Promise<void> {
  let dom: Awaited<ReturnType<typeof ctx.client.domains.lookupByName>>;
  try {
    dom = await ctx.client.domains.lookupByName(name);
  } catch (error) {
    if (VmkitError.is(error, 'NOT_FOUND')) return;
    throw error;
  }
  if (await ctx.client.domains.isActive(dom)) await ctx.client.domains.destroy(dom).catch(() => {});
  await ctx.client.domains.undefine(dom, 3).catch((error: unknown) => {
    if (!VmkitError.is(error, 'NOT_FOUND')) throw error;
  });
}
