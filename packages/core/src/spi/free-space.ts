import { VmkitError } from '../errors/vmkit-error.js';

const MiB = 1024 * 1024;

/**
 * What vmkit asks to be free for each qcow2 volume that starts nearly empty and grows as a guest
 * writes (a linked clone's overlay, an installer's fresh disk): 16 MiB, room for the image's
 * metadata and a guest's first writes. Such a volume may still grow to its capacity later; that
 * is noticed when the guest pauses on the write that does not fit.
 */
export const GROWING_VOLUME_FLOOR_BYTES = 16 * MiB;

/** Where vmkit is about to write: a libvirt storage pool, a VirtualBox machine folder. */
export interface WritePlace {
  /** What it is called in messages (`pool`, `machine folder`). */
  readonly kind: string;
  /** Its name (the pool's name, the folder's path). */
  readonly name: string;
  /** The provider option that chose it (`pool`), reported as `details.field`. */
  readonly field: string;
}

/** One thing about to be written, and how many bytes it will take. */
export interface SpaceNeed {
  /** What it is (`volume vmkit-m-x.qcow2`, `overlay of node-1`). */
  readonly what: string;
  /** Bytes it will take. */
  readonly bytes: number;
}

/** Facts of a disk that filled up, for {@link noSpaceError}. */
export interface NoSpaceFacts {
  /** Where it filled up. */
  readonly place: WritePlace;
  /** What happened, to start the message after the place (`installer x paused writing vda`). */
  readonly what: string;
  /** Bytes free there, when known. */
  readonly freeBytes?: number;
  /** Bytes the operation needed (or may still need), when known. */
  readonly neededBytes?: number;
}

/**
 * The error of a full disk: `PROVIDER`, the environment's fault, the message
 * `disk full on <kind> <name>: <what> (<free> bytes free, <needed> bytes needed)`, and `details`
 * `{ reason: 'no-space', field, <kind>: name, freeBytes?, neededBytes? }`. Recognised by
 * {@link isNoSpaceError}.
 */
export function noSpaceError(facts: NoSpaceFacts, options: { cause?: unknown } = {}): VmkitError {
  const { place, freeBytes, neededBytes } = facts;
  const numbers = [
    freeBytes === undefined ? undefined : `${freeBytes} bytes free`,
    neededBytes === undefined ? undefined : `${neededBytes} bytes needed`,
  ].filter((s) => s !== undefined);
  const tail = numbers.length > 0 ? ` (${numbers.join(', ')})` : '';
  return new VmkitError('PROVIDER', `disk full on ${place.kind} ${place.name}: ${facts.what}${tail}`, {
    fault: 'environment',
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    details: {
      reason: 'no-space',
      field: place.field,
      [place.kind.replace(/ (\w)/g, (_, c: string) => c.toUpperCase())]: place.name,
      ...(freeBytes === undefined ? {} : { freeBytes }),
      ...(neededBytes === undefined ? {} : { neededBytes }),
    },
  });
}

/** True when `error` is the error of a full disk ({@link noSpaceError}). */
export function isNoSpaceError(error: unknown): error is VmkitError {
  return VmkitError.is(error, 'PROVIDER') && error.details.reason === 'no-space';
}

/**
 * The early free-space check before a build or a clone: throws {@link noSpaceError} (before
 * anything is written) when the sum of `needs` is more than `freeBytes`. Volumes written in full
 * (raw volumes, full copies, uploads) need their size; qcow2 volumes that grow as a guest writes
 * need {@link GROWING_VOLUME_FLOOR_BYTES}. The check is not a reservation: operations running at
 * once each see the same free space.
 */
export function assertFreeSpace(place: WritePlace, freeBytes: number, needs: readonly SpaceNeed[]): void {
  const neededBytes = needs.reduce((sum, n) => sum + Math.max(0, n.bytes), 0);
  if (neededBytes <= freeBytes) return;
  const list = needs.map((n) => `${n.what} ${n.bytes}`).join(', ');
  throw noSpaceError({
    place,
    what: `refused before writing anything: ${list} bytes do not fit`,
    freeBytes,
    neededBytes,
  });
}
