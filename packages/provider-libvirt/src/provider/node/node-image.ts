import type { MasterRef, NodeImageCapabilities, NodeImageRequest, OperationOptions } from '@vmkit/core/spi';
import { emitProgress, sealContext, throwIfAborted, VmkitError } from '@vmkit/core/spi';
import { deleteLeftoverVolume } from '../host/volume-cleanup.js';
import type { LibvirtContext, LibvirtMasterData } from '../libvirt-context.js';
import { masterNames } from '../master/build-state.js';
import { runPostInstall } from '../master/master-post-install.js';
import { lookupNode } from './node-lookup.js';
import { copyRunningDisk } from './running-disk-copy.js';

/**
 * What libvirt makes images from: stopped nodes, copied with `STORAGE_VOL_CREATE_XML_FROM` (a
 * flattening `qemu-img convert` of the node's overlay and the master behind it), and running nodes,
 * copied by a block copy job that ends while the guest's file systems are frozen through its agent
 * (see `copyRunningDisk`); the copy is sealed by one post-install boot of it.
 */
export const LIBVIRT_NODE_IMAGE_CAPABILITIES: NodeImageCapabilities = Object.freeze({
  stopped: true,
  running: true,
  seal: true,
});

/** The node's master volume's name, from the volume name its record keeps (`<prefix>m-<master>.qcow2`). */
function sourceMasterName(ctx: LibvirtContext, masterVolume: string, node: string): string {
  const prefix = `${ctx.options.namePrefix}m-`;
  if (!masterVolume.startsWith(prefix) || !masterVolume.endsWith('.qcow2'))
    throw new VmkitError(
      'UNSUPPORTED',
      `node ${node} was not cloned from a master disk (it boots ${masterVolume})`,
      {
        details: { node, master: masterVolume },
      },
    );
  return masterVolume.slice(prefix.length, -'.qcow2'.length);
}

/**
 * Makes a new master from a node's disk (see {@link LIBVIRT_NODE_IMAGE_CAPABILITIES}): the
 * node's `<node>.qcow2` is copied, flattened (a running node's by `copyRunningDisk`; it keeps
 * running), into the new master's volume named as a build of
 * `request.masterName` names it; a kernel master's kernel and initrd and an EFI node's own NVRAM
 * are copied beside it. With `seal`, the copy (never the node) is booted once with the guest
 * clean-up as its post-install boot. Data volumes are not part of the image; a running UEFI node is
 * refused (QEMU holds its NVRAM). Every volume made is deleted again on failure or abort; the node
 * is only read.
 */
export async function createLibvirtMasterFromNode(
  ctx: LibvirtContext,
  id: string,
  request: NodeImageRequest,
  options: OperationOptions = {},
): Promise<MasterRef> {
  const { masterName, spec, seal } = request;
  const { signal, onProgress } = options;
  const progress = (fraction: number, message: string) =>
    emitProgress(onProgress, { phase: 'image', imageId: spec.id, node: id, fraction, message });
  const { dom, meta } = await lookupNode(ctx, id);
  const running = await ctx.client.domains.isActive(dom);
  if (running && spec.hardware?.firmware === 'efi')
    throw new VmkitError(
      'UNSUPPORTED',
      `node ${id} is running with UEFI firmware: its NVRAM file is held by QEMU and cannot be copied; stop it first`,
      { details: { node: id, firmware: 'efi' } },
    );
  const from = masterNames(ctx.options.namePrefix, sourceMasterName(ctx, String(meta.master), id));
  const names = masterNames(ctx.options.namePrefix, masterName);
  const disk = await ctx.storage.find(`${id}.qcow2`);
  if (!disk)
    throw new VmkitError('NOT_FOUND', `node ${id} has no disk ${id}.qcow2`, { details: { node: id } });
  if (await ctx.storage.find(names.volume))
    throw new VmkitError('CONFLICT', `master ${masterName}: volume ${names.volume} already exists`, {
      details: { master: masterName, volume: names.volume },
    });
  const made: string[] = [];
  const copy = async (name: string, source: string, format: 'qcow2' | 'raw') => {
    const vol = await ctx.storage.find(source);
    if (!vol)
      throw new VmkitError('NOT_FOUND', `volume ${source} of node ${id} is missing`, {
        details: { node: id },
      });
    throwIfAborted(signal, `image from node ${id}`);
    made.push(name);
    return ctx.storage.copy(name, vol, format);
  };
  try {
    progress(0.05, `copying ${id}.qcow2, flattened`);
    const copied = running
      ? await copyRunningDisk(ctx, dom, id, names.volume, {
          signal,
          progress,
          onCreating: () => made.push(names.volume),
        })
      : await copy(names.volume, `${id}.qcow2`, 'qcow2');
    const info = await ctx.client.storage.volGetInfo(copied);
    progress(seal ? 0.4 : 0.8, `disk copied (${info.allocation} bytes)`);
    let data: LibvirtMasterData = {
      pool: ctx.storage.name,
      volume: names.volume,
      format: 'qcow2',
      capacityBytes: info.capacity,
      boot: spec.source.type === 'kernel' ? 'kernel' : 'disk',
      volumes: [names.volume],
    };
    if (spec.source.type === 'kernel') {
      await copy(names.kernel, from.kernel, 'raw');
      await copy(names.initrd, from.initrd, 'raw');
      data = {
        ...data,
        kernelVolume: names.kernel,
        initrdVolume: names.initrd,
        cmdline: ctx.options.nodeCmdline(spec.source.cmdline ?? ''),
        volumes: [names.volume, names.kernel, names.initrd],
      };
    }
    if (spec.hardware?.firmware === 'efi') {
      // The node's own variables: the boot entries its guest wrote come with the image.
      await copy(names.nvram, `${id}-VARS.fd`, 'raw');
      data = { ...data, nvramVolume: names.nvram, volumes: [...data.volumes, names.nvram] };
    }
    throwIfAborted(signal, `image from node ${id}`);
    if (seal) await sealCopy(ctx, data, request, options);
    throwIfAborted(signal, `image from node ${id}`);
    progress(1, `master ${masterName} made from node ${id}`);
    return { id: names.volume, data };
  } catch (error) {
    // A running node's copy is written by QEMU, not through the storage API: rescan to see it.
    if (running) await ctx.storage.refresh().catch(() => {});
    for (const v of made.reverse())
      await deleteLeftoverVolume(ctx, v, `rolling back the image from node ${id}`);
    throw error;
  }
}

/** Boots the copy once with the guest clean-up (and no steps of the spec's) as its post-install boot. */
async function sealCopy(
  ctx: LibvirtContext,
  data: LibvirtMasterData,
  request: NodeImageRequest,
  options: OperationOptions,
): Promise<void> {
  await runPostInstall(
    ctx,
    sealContext(request, options, ctx.options.logger, undefined, [0.4, 0.95]),
    data,
    [],
  );
}
