import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MasterRef, NodeImageRequest, OperationOptions } from '@vmkit/core/spi';
import { emitProgress, sealContext, throwIfAborted, VmkitError } from '@vmkit/core/spi';
import * as vbox from 'virtualbox-soap';
import { mediumAttachments, waitProgress, wrap } from '../../soap/calls.js';
import { deleteMasterMachine, masterMachineHardware, ownDiskMasterRef } from '../master/master-build.js';
import { registerMasterMachine, takeMasterSnapshot } from '../master/master-machine.js';
import { runPostInstall } from '../master/master-post-install.js';
import { masterMachineName, type VboxContext } from '../virtualbox-context.js';
import { ACTIVE_STATES } from './machine-power.js';
import { findNode } from './node-ops.js';

/**
 * Makes a new master from a stopped node (see `VBOX_NODE_IMAGE_CAPABILITIES`): its boot disk
 * is cloned to base into `<machine folder>/<master machine>.vdi`, registered as a build of
 * `request.masterName` leaves a master (a machine with that disk), booted once with the guest
 * clean-up when `seal`, and given the snapshot linked clones start from. On failure or abort the
 * machine and the VDI are removed; the node is only read.
 */
export async function createVboxMasterFromNode(
  ctx: VboxContext,
  id: string,
  request: NodeImageRequest,
  options: OperationOptions = {},
): Promise<MasterRef> {
  const { masterName, spec, seal } = request;
  const { signal } = options;
  const name = masterMachineName(ctx.options.namePrefix, masterName);
  const vdi = join(ctx.options.machineFolder, `${name}.vdi`);
  const progress = (fraction: number, message: string) =>
    emitProgress(options.onProgress, { phase: 'image', imageId: spec.id, node: id, fraction, message });
  if (await stat(vdi).catch(() => undefined))
    throw new VmkitError('CONFLICT', `master ${masterName}: ${vdi} already exists`, {
      details: { master: masterName },
    });
  let made = false;
  try {
    await ctx.conn.run(`copying the disk of ${id}`, async (api) => {
      const { machine } = await findNode(ctx, api, id);
      if (ACTIVE_STATES.has(String(await machine.getState())))
        throw new VmkitError(
          'CONFLICT',
          `node ${id} is running: VirtualBox copies a stopped node's disk only`,
          {
            details: { node: id },
          },
        );
      const attached = (await mediumAttachments(machine)).find((a) => a.type === 'HardDisk' && a.medium);
      if (!attached)
        throw new VmkitError('UNSUPPORTED', `node ${id} has no disk of its own to copy (a live ISO node)`, {
          details: { node: id },
        });
      const source = wrap(vbox.IMedium, machine, attached.medium);
      throwIfAborted(signal, `image from node ${id}`);
      const target = await api.vbox.createMedium(
        'VDI',
        vdi,
        'ReadWrite' as vbox.AccessMode,
        'HardDisk' as vbox.DeviceType,
      );
      made = true;
      progress(0.05, `copying the disk of ${id} to ${vdi}`);
      await waitProgress(
        await source.cloneToBase(target, ['Standard' as vbox.MediumVariant]),
        `copying the disk of node ${id}`,
        signal,
      );
      progress(0.4, 'disk copied');
      await registerMasterMachine(ctx, api, name, {
        disk: target,
        hardware: masterMachineHardware(spec),
        signal,
      });
    });
    if (seal) await sealCopy(ctx, name, request, options);
    await takeMasterSnapshot(ctx, name, signal);
    throwIfAborted(signal, `image from node ${id}`);
    progress(1, `master ${name} made from node ${id}`);
    return ownDiskMasterRef(name, vdi, spec);
  } catch (error) {
    if (made) {
      await deleteMasterMachine(ctx, name, [], [vdi]).catch(() => {});
      await rm(vdi, { force: true });
    }
    throw error;
  }
}

/** Boots the new master once with the guest clean-up alone as its post-install script. */
async function sealCopy(
  ctx: VboxContext,
  machineName: string,
  request: NodeImageRequest,
  options: OperationOptions,
): Promise<void> {
  const c = sealContext(request, options, ctx.options.logger, {}, [0.4, 0.9]);
  await runPostInstall(ctx, c, { ...request.spec, postInstall: [] }, machineName, { cleanupAlone: true });
}
