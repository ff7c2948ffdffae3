import { noSpaceError, VmkitError } from '@vmkit/core/spi';
import {
  DomainDiskErrorCode,
  DomainPausedReason,
  DomainShutoffReason,
  DomainState,
} from '../../client/domain-procedures.js';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { parseXml } from '../xml/xml-text.js';

/** What a wait expects of a domain: to power itself off (a build's boot), or to keep running (a node). */
export type DomainExpectation = 'poweroff' | 'running';

/** A domain's state and its reason, as `DOMAIN_GET_STATE` gives them. */
export interface DomainStateReason {
  readonly state: number;
  readonly reason: number;
}

const SHUTOFF_REASONS: Readonly<Record<number, string>> = {
  [DomainShutoffReason.UNKNOWN]: 'for an unknown reason',
  [DomainShutoffReason.SHUTDOWN]: 'by the guest',
  [DomainShutoffReason.DESTROYED]: 'destroyed',
  [DomainShutoffReason.DAEMON]: 'by libvirtd',
};

/**
 * The error a wait on a domain ends with, or `undefined` while all is well: a domain paused on
 * an I/O error (QEMU's default on `ENOSPC`; a full pool is named with its free bytes, see
 * {@link diskFault}), paused by a watchdog or a guest panic, crashed, stopped with QEMU failing,
 * stopped other than by the guest powering off, or (when it should keep running) stopped at all. `label` names the domain in messages
 * (`installer vmkit-install-x`).
 */
export async function domainFault(
  ctx: LibvirtContext,
  dom: DomainHandle,
  label: string,
  { state, reason }: DomainStateReason,
  expect: DomainExpectation,
): Promise<VmkitError | undefined> {
  const details = { domain: dom.name, state, reason };
  if (state === DomainState.PAUSED) {
    if (reason === DomainPausedReason.IOERROR) return diskFault(ctx, dom, label);
    if (reason === DomainPausedReason.CRASHED)
      return new VmkitError('PROVIDER', `${label} crashed (guest panic)`, { details });
    if (reason === DomainPausedReason.WATCHDOG)
      return new VmkitError('PROVIDER', `${label} was paused by its watchdog`, { details });
    return undefined;
  }
  if (state === DomainState.CRASHED) return new VmkitError('PROVIDER', `${label} crashed`, { details });
  if (state !== DomainState.SHUTOFF) return undefined;
  if (reason === DomainShutoffReason.CRASHED)
    return new VmkitError('PROVIDER', `${label} crashed`, { details });
  if (reason === DomainShutoffReason.FAILED)
    return new VmkitError('PROVIDER', `${label} stopped: QEMU failed`, { details });
  // A build's boot ends by the guest powering off; destroyed by someone else, lost with the
  // daemon or saved, its disk is not finished.
  if (
    expect === 'poweroff' &&
    (reason === DomainShutoffReason.SHUTDOWN || reason === DomainShutoffReason.UNKNOWN)
  )
    return undefined;
  const why = SHUTOFF_REASONS[reason] ?? `(reason ${reason})`;
  return new VmkitError('PROVIDER', `${label} stopped unexpectedly ${why}`, { details });
}

/**
 * The error of a domain paused on an I/O error: for a disk out of space (`DOMAIN_GET_DISK_ERRORS`
 * says `NO_SPACE`) the `no-space` error naming the pool, its free bytes and how much the volume
 * may still grow; otherwise a `PROVIDER` error naming the disk.
 */
async function diskFault(ctx: LibvirtContext, dom: DomainHandle, label: string): Promise<VmkitError> {
  const errors = await ctx.client.domains.getDiskErrors(dom).catch(() => []);
  const full = errors.find((e) => e.error === DomainDiskErrorCode.NO_SPACE);
  const failed = full ?? errors[0];
  const volume = failed ? await diskVolume(ctx, dom, failed.disk) : undefined;
  const disk = failed ? `disk ${failed.disk}${volume ? ` (volume ${volume})` : ''}` : 'a disk';
  if (!full) {
    return new VmkitError('PROVIDER', `${label} paused on an I/O error of ${disk}`, {
      details: { domain: dom.name, disk: failed?.disk },
    });
  }
  const freeBytes = await ctx.storage.freeBytes().catch(() => undefined);
  const info = volume
    ? await ctx.storage
        .find(volume)
        .then((v) => (v ? ctx.client.storage.volGetInfo(v) : undefined))
        .catch(() => undefined)
    : undefined;
  // A growing volume still needs what it has not taken yet: at most its capacity less its allocation.
  const neededBytes = info ? Math.max(0, info.capacity - info.allocation) : undefined;
  return noSpaceError({
    place: ctx.storage.place,
    what: `${label} paused: a write to ${disk} found no space left (ENOSPC)`,
    ...(freeBytes === undefined ? {} : { freeBytes }),
    ...(neededBytes === undefined ? {} : { neededBytes }),
  });
}

/** The pool volume behind a domain's disk target (`vda`), from its live XML. */
async function diskVolume(
  ctx: LibvirtContext,
  dom: DomainHandle,
  target: string,
): Promise<string | undefined> {
  try {
    const doc = parseXml(await ctx.client.domains.getXmlDesc(dom)) as {
      domain?: {
        devices?: {
          disk?: Array<{ target?: { '@dev'?: string }; source?: { '@file'?: string; '@volume'?: string } }>;
        };
      };
    };
    const disk = doc.domain?.devices?.disk?.find((d) => d.target?.['@dev'] === target);
    const source = disk?.source?.['@volume'] ?? disk?.source?.['@file'];
    return source?.split('/').pop();
  } catch {
    return undefined;
  }
}
