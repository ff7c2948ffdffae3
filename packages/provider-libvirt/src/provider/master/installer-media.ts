import { stat } from 'node:fs/promises';
import {
  type AnswerSession,
  type BuildContext,
  GROWING_VOLUME_FLOOR_BYTES,
  VmkitError,
} from '@vmkit/core/spi';
import { fetchSourceFile } from '@vmkit/imaging';
import type { LibvirtContext, LibvirtMasterData } from '../libvirt-context.js';
import type { DomainBoot, DomainDisk } from '../xml/domain-xml.js';
import { withKernelParams } from './boot-iso-source.js';
import type { MasterNames } from './build-state.js';
import {
  isoWithAnswers,
  uploadAnswersDrive,
  uploadAnswersInitrd,
  withoutAnswerServer,
} from './installer-answers.js';

const GiB = 1024 ** 3;

/** What an installer boots from: its disks and boot order, and what the master keeps of it. */
export interface InstallerMedia {
  readonly boot: DomainBoot;
  readonly disks: DomainDisk[];
  readonly capacityBytes: number;
  /** Kernel-boot fields of the master's data (empty for ISO installers). */
  readonly kernel: Pick<
    LibvirtMasterData,
    'kernelVolume' | 'initrdVolume' | 'kernelPath' | 'initrdPath' | 'cmdline'
  >;
  /** Volumes the master keeps (its disk, and kernel and initrd for kernel masters). */
  readonly volumes: string[];
}

/**
 * Creates the master's empty disk and uploads what the installer boots: the kernel and initrd of
 * a `kernel` source, or the ISO of an `iso` source (attached as a CD-ROM), with the answers'
 * placeholders expanded in the boot line, the answered initrd (`initrd` delivery) and the
 * answers drive (`drive`). Each volume is tracked before it is made, so a failure anywhere leaves
 * nothing once the build is discarded.
 */
export async function prepareInstallerMedia(
  ctx: LibvirtContext,
  c: BuildContext,
  names: MasterNames,
  track: (volume: string) => void,
  answers: AnswerSession,
): Promise<InstallerMedia> {
  const source = c.spec.source;
  const pool = ctx.storage.name;
  const capacityBytes = Math.round((c.spec.hardware?.diskGiB ?? 1) * GiB);
  const volumes = [names.volume];
  const disks: DomainDisk[] = [{ pool, volume: names.volume, format: 'qcow2', role: 'disk' }];
  // The installer's disk is a qcow2 volume that grows as the installer writes.
  const disk = { what: `volume ${names.volume}`, bytes: GROWING_VOLUME_FLOOR_BYTES };
  const createDisk = async () => {
    track(names.volume);
    await ctx.storage.create({ name: names.volume, capacityBytes, format: 'qcow2' });
  };
  const answersDrive = async () => {
    const drive = await uploadAnswersDrive(ctx, c, answers, names, track);
    if (drive) disks.push(drive);
  };
  if (source.type === 'kernel') {
    const cmdline = answers.expand(withoutAnswerServer(source.cmdline ?? ''), 'source.cmdline');
    const installCmdline = answers.expand(source.cmdline ?? '', 'source.cmdline');
    await ctx.storage.assertFits([
      disk,
      { what: `volume ${names.kernel}`, bytes: (await stat(source.kernel)).size },
      { what: `volume ${names.initrd}`, bytes: (await stat(source.initrd)).size },
    ]);
    await createDisk();
    const paths = await uploadBootFiles(ctx, source.kernel, source.initrd, names, track, {
      signal: c.signal,
      onBytes: (volume, n) => c.progress(0.1, `uploading ${volume}: ${n} bytes`),
    });
    volumes.push(...paths.volumes);
    const answeredInitrd = await uploadAnswersInitrd(ctx, c, answers, source.initrd, names, track);
    await answersDrive();
    return {
      boot: {
        kind: 'kernel',
        kernel: paths.kernel,
        initrd: answeredInitrd ?? paths.initrd,
        cmdline: installCmdline,
      },
      disks,
      capacityBytes,
      kernel: { ...paths.ref, cmdline: ctx.options.nodeCmdline(cmdline) },
      volumes,
    };
  }
  if (source.type !== 'iso') throw new TypeError('prepareInstallerMedia needs a kernel or iso source');
  const local = await fetchSourceFile(source, { signal: c.signal });
  try {
    const params =
      source.kernelParams === undefined
        ? undefined
        : answers.expand(source.kernelParams, 'source.kernelParams');
    const iso =
      (await isoWithAnswers(c, answers, local.path, params ?? '')) ??
      (await withKernelParams(ctx.bootIsos, local.path, params, c.signal));
    try {
      await ctx.storage.assertFits([
        disk,
        { what: `volume ${names.iso}`, bytes: (await stat(iso.file)).size },
      ]);
      await createDisk();
      track(names.iso);
      await ctx.storage.createFromFile(names.iso, iso.file, 'raw', 0, { signal: c.signal });
    } finally {
      await iso.cleanup();
    }
  } finally {
    await local.dispose();
  }
  disks.push({ pool, volume: names.iso, format: 'raw', role: 'cdrom' });
  await answersDrive();
  return { boot: { kind: 'cdrom' }, disks, capacityBytes, kernel: {}, volumes };
}

/**
 * Uploads a kernel and initrd as pool volumes, reporting the bytes sent into each volume through
 * `transfer.onBytes`; drivers without uploads boot the host's files.
 */
export async function uploadBootFiles(
  ctx: LibvirtContext,
  kernelFile: string,
  initrdFile: string,
  names: MasterNames,
  track: (name: string) => void,
  transfer: { signal?: AbortSignal | undefined; onBytes?: (volume: string, bytes: number) => void } = {},
) {
  const options = (volume: string) => ({
    ...(transfer.signal ? { signal: transfer.signal } : {}),
    ...(transfer.onBytes ? { onBytes: (n: number) => transfer.onBytes?.(volume, n) } : {}),
  });
  try {
    track(names.kernel);
    const k = await ctx.storage.createFromFile(names.kernel, kernelFile, 'raw', 0, options(names.kernel));
    track(names.initrd);
    const i = await ctx.storage.createFromFile(names.initrd, initrdFile, 'raw', 0, options(names.initrd));
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
