import { mkdir, rm, stat } from 'node:fs/promises';
import type { BootIsoSource } from '@vmkit/core/spi';
import { VmkitError } from '@vmkit/core/spi';
import { inspectImage } from '@vmkit/imaging';
import type * as vbox from 'virtualbox-soap';
import type { VboxApi } from '../../soap/connection.js';
import { hasResult, VBOX_RESULT } from '../../soap/errors.js';
import { masterMachineName, type VboxContext } from '../virtualbox-context.js';
import type { VboxBuildContext } from './build-state.js';
import { isInsideFolder } from './master-ref-check.js';
import { type LocalFile, localSource, withKernelParams } from './master-source.js';

/** Opens (registers, or finds registered) an ISO as a read-only DVD medium. */
export function openDvd(api: VboxApi, path: string): Promise<vbox.IMedium> {
  return api.vbox.openMedium(path, 'DVD' as vbox.DeviceType, 'ReadOnly' as vbox.AccessMode, false);
}

/**
 * `create-and-install` of a `bootIso` master: no machine, no disk, no install boot. The ISO (a
 * copy remastered with `kernelParams` into the machine folder when given, else the user's file
 * as it is) is registered as a DVD medium; nodes are new machines that boot it live. There is
 * nothing to snapshot: nodes are not clones, so the VirtualBox API needs no snapshot machine.
 */
export async function prepareBootIsoMaster(
  ctx: VboxContext,
  c: VboxBuildContext,
  source: BootIsoSource,
  hasPostInstall: boolean,
): Promise<void> {
  const s = c.state;
  if (s.bootIso) return c.progress(1, 'boot ISO already registered');
  if (hasPostInstall)
    throw new VmkitError(
      'UNSUPPORTED',
      "postInstall: a 'bootIso' master is the ISO itself, with no disk to run post-install steps on; put the changes in the ISO",
      { details: { field: 'postInstall' } },
    );
  const name = masterMachineName(ctx.options.namePrefix, c.masterName);
  const srcCtx = {
    machineFolder: ctx.options.machineFolder,
    qemuImg: ctx.options.qemuImg,
    base: name,
    ...(c.signal ? { signal: c.signal } : {}),
  };
  await mkdir(ctx.options.machineFolder, { recursive: true, mode: 0o700 });
  const local = await localSource(source, srcCtx, 'iso');
  const iso: LocalFile =
    source.kernelParams === undefined
      ? local
      : await withKernelParams(local, source.kernelParams, srcCtx, ctx.bootIsos, '-boot');
  s.bootIso = iso;
  c.progress(0.7, source.kernelParams === undefined ? 'boot ISO ready' : 'boot ISO remastered');
  await ctx.conn.run(`registering the boot ISO of ${name}`, (api) => openDvd(api, iso.path));
  s.machine = name;
  s.installed = true;
  c.progress(1, 'boot ISO registered as a DVD medium');
}

/**
 * Removes a `bootIso` master: the DVD medium closed (VirtualBox refuses while a node still has
 * it attached: `CONFLICT`), and the file deleted when vmkit made it (never the user's ISO, never a
 * file outside the machine folder, whatever `owned` says).
 */
export async function deleteBootIsoMaster(ctx: VboxContext, iso: LocalFile): Promise<void> {
  await ctx.conn.run(
    `closing the boot ISO ${iso.path}`,
    async (api) => {
      let medium: vbox.IMedium;
      try {
        medium = await openDvd(api, iso.path);
      } catch (error) {
        if (hasResult(error, VBOX_RESULT.FILE_ERROR)) return;
        throw error;
      }
      await medium.close();
    },
    true,
  );
  if (iso.owned && isInsideFolder(ctx.options.machineFolder, iso.path)) await rm(iso.path, { force: true });
}

/** Whether a `bootIso` master's ISO is still there. */
export async function bootIsoExists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/**
 * Refuses a boot ISO that is not an ISO 9660 image (read from its header): a node must never get
 * another host file (a key, a disk) as its DVD, whatever a master reference names.
 */
export async function assertBootIsoFile(path: string): Promise<void> {
  const info = await inspectImage(path).catch((error: unknown) => {
    throw new VmkitError('NOT_FOUND', `master.data.bootIso: cannot read ${path}`, {
      cause: error,
      details: { field: 'master.data.bootIso' },
    });
  });
  if (info.format !== 'iso')
    throw new VmkitError(
      'CORRUPT',
      `master.data.bootIso: ${path} is not an ISO 9660 image (${info.format})`,
      {
        details: { field: 'master.data.bootIso' },
      },
    );
}
