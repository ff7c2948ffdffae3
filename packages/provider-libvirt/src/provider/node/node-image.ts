import type { MasterRef, NodeImageCapabilities, NodeImageRequest, OperationOptions } from '@vmkit/core/spi';
import { emitProgress, sealContext, throwIfAborted, VmkitError } from '@vmkit/core/spi';
import { deleteLeftoverVolume } from '../host/volume-cleanup.js';
import type { LibvirtContext, LibvirtMasterData } from '../libvirt-context.js';
import { masterNames } from '../master/build-state.js';
import { runPostInstall } from '../master/master-post-install.js';
import { lookupNode } from './node-lookup.js';

/**
 * What libvirt makes images from: stopped nodes, copied with `STORAGE_VOL_CREATE_XML_FROM` (a
 * flattening `qemu-img convert` of the node's overlay and the master behind it), sealed by one
 * post-install boot of the copy. A running node's overlay is open for writing by its QEMU (the copy
 * would need a block copy job while the guest's file systems are frozen; not done yet), so running
 * nodes are refused by core with the reason.
 */
export const LIBVIRT_NODE_IMAGE_CAPABILITIES: NodeImageCapabilities = Object.freeze({
  stopped: true,
  running: false,
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
 * Makes a new master from a stopped node's disk (see {@link LIBVIRT_NODE_IMAGE_CAPABILITIES}): the
 * node's `<node>.qcow2` is copied, flattened, into the new master's volume named as a build of
 * `request.masterName` names it; a kernel master's kernel and initrd and an EFI node's own NVRAM
 * are copied beside it. With `seal`, the copy (never the node) is booted once with the guest
 * clean-up as its post-install boot. Data volumes are not part of the image. Every volume made is
 * deleted again on failure or abort; the node is only read.
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
  if (await ctx.client.domains.isActive(dom))
    throw new VmkitError('CONFLICT', `node ${id} is running: libvirt copies a stopped node's disk only`, {
      details: { node: id },
    });
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
    const copied = await copy(names.volume, `${id}.qcow2`, 'qcow2');
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
