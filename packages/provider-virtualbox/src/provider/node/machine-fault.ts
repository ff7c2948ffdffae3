import { statfs } from 'node:fs/promises';
import { GROWING_VOLUME_FLOOR_BYTES, noSpaceError, VmkitError } from '@vmkit/core/spi';
import type { RuntimeError } from '../../soap/runtime-errors.js';
import type { VboxContext } from '../virtualbox-context.js';

/** What a wait expects of a machine: to power itself off (a build's boot), or to keep running (a node). */
export type MachineExpectation = 'poweroff' | 'running';

/** VirtualBox's runtime error id for a disk write that found the host disk full. */
export const DISK_FULL_ERROR = 'DrvVD_DISKFULL';

async function folderFreeBytes(ctx: VboxContext): Promise<number | undefined> {
  try {
    const s = await statfs(ctx.options.machineFolder);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * The error a wait on a machine ends with, or `undefined` while all is well: `Paused` (vmkit
 * never pauses a machine it waits on) with the `DrvVD_DISKFULL` runtime error, or with no
 * runtime error heard while the machine folder has less than the growing-disk floor free, is the
 * `no-space` error on the machine folder; `Paused` on another runtime error, or for no reason
 * heard; `Stuck` (a guest panic); `Aborted` (the VM process died); and, when the machine should
 * keep running, any state without a VM process. `label` names the machine (`installer vmkit-m-x`).
 */
export async function machineFault(
  ctx: VboxContext,
  label: string,
  state: string,
  expect: MachineExpectation,
  errors: readonly RuntimeError[],
): Promise<VmkitError | undefined> {
  const details = { machine: label, state };
  if (state === 'Paused') {
    const fatal = errors.filter((e) => e.fatal);
    const full = fatal.find((e) => e.id === DISK_FULL_ERROR);
    const freeBytes = await folderFreeBytes(ctx);
    const nearlyFull = freeBytes !== undefined && freeBytes < GROWING_VOLUME_FLOOR_BYTES;
    if (full || (fatal.length === 0 && nearlyFull))
      return noSpaceError({
        place: { kind: 'machine folder', name: ctx.options.machineFolder, field: 'machineFolder' },
        what: full
          ? `${label} paused: VirtualBox reported ${DISK_FULL_ERROR} (a disk write found the host disk full)`
          : `${label} paused with the machine folder full`,
        ...(freeBytes === undefined ? {} : { freeBytes }),
      });
    const last = fatal.at(-1);
    if (last)
      return new VmkitError('PROVIDER', `${label} paused on the runtime error ${last.id}: ${last.message}`, {
        details: { ...details, runtimeError: last.id },
      });
    return new VmkitError('PROVIDER', `${label} was paused (not by vmkit, no runtime error reported)`, {
      details,
    });
  }
  if (state === 'Stuck')
    return new VmkitError('PROVIDER', `${label} is stuck: its guest panicked (Guru Meditation)`, { details });
  if (state === 'Aborted' || state === 'AbortedSaved')
    return new VmkitError(
      'PROVIDER',
      `${label} aborted: its VM process ended abnormally (crashed or killed)`,
      {
        details,
      },
    );
  if (state === 'Saved' || (expect === 'running' && state === 'PoweredOff'))
    return new VmkitError('PROVIDER', `${label} stopped unexpectedly (${state})`, { details });
  return undefined;
}
