import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import type { DiskBytes, ProviderArtefact } from '../spi/provider-artefacts.js';
import { throwIfAborted } from '../util/abort.js';
import { emitProgress, type OperationOptions } from '../util/progress.js';
import { classifyArtefacts } from './build-liveness.js';
import { belongsToImage, type HousekeepingParts } from './housekeeping-parts.js';

/** Options of `ComputeService.pruneImages`. */
export interface PruneImagesOptions extends OperationOptions {
  /** Report what would be removed, remove nothing. */
  readonly dryRun?: boolean;
  /** Only masters built, and leftovers made, at least this many milliseconds ago (default 0). */
  readonly unusedFor?: number;
}

/** One thing `pruneImages` removed (or, in a dry run, would remove). */
export interface PrunedItem {
  /**
   * `image`: a master no node uses, its superseded masters and its record; `leftover`: an artefact
   * of a crashed build; `node`: an ephemeral node whose owner is gone (`reapNodes`).
   */
  readonly kind: 'image' | 'leftover' | 'node';
  /** The image id, the artefact's provider name, or the node's name. */
  readonly id: string;
  /** The image concerned, when known. */
  readonly imageId?: string;
  /** Space it took, when the provider measures it. */
  readonly bytes?: DiskBytes;
}

/** Something `pruneImages` left in place, and why. */
export interface KeptItem {
  /** As in {@link PrunedItem}. */
  readonly kind: 'image' | 'leftover';
  /** The image id, or the artefact's provider name. */
  readonly id: string;
  /** Why it stays (used by nodes, busy, too recent, owned by a running build, in use). */
  readonly reason: string;
}

/** What `pruneImages` did. */
export interface PruneResult {
  /** Whether this was a dry run (nothing removed). */
  readonly dryRun: boolean;
  /** What was removed (or would be). */
  readonly removed: readonly PrunedItem[];
  /** What stayed, with the reason. */
  readonly kept: readonly KeptItem[];
  /** What could not be removed, with the error message; the rest went on. */
  readonly failed: ReadonlyArray<{
    readonly kind: 'image' | 'leftover' | 'node';
    readonly id: string;
    readonly error: string;
  }>;
}

/**
 * Removes the masters no node uses (with their superseded masters and records) and the
 * artefacts of crashed builds that no record, no running build of this process and no live build
 * lease in the store (another process's build) owns.
 * Masters of images used by nodes, busy in this process, or younger than `unusedFor` stay;
 * artefacts in use (a running build domain, a master a node depends on) always stay.
 */
export async function pruneImages(
  parts: HousekeepingParts,
  options: PruneImagesOptions = {},
): Promise<PruneResult> {
  const unusedFor = checkUnusedFor(options);
  const { provider, cache } = parts;
  const dryRun = options.dryRun === true;
  const cutoff = Date.now() - unusedFor;
  const removed: PrunedItem[] = [];
  const kept: KeptItem[] = [];
  const failed: Array<{ kind: 'image' | 'leftover'; id: string; error: string }> = [];
  const report = (message: string) => emitProgress(options.onProgress, { phase: 'destroy', message });

  const nodes = await provider.listNodes();
  const owned = new Set<string>();
  const candidates: string[] = [];
  for (const image of cache.list()) {
    const record = cache.record(image.id);
    if (!record) continue;
    for (const ref of [record.master, ...(record.retired ?? [])]) owned.add(ref.id);
    const users = nodes.filter((n) => n.imageId === image.id).length;
    const reason =
      users > 0
        ? `used by ${users} node(s)`
        : parts.isBusy(image.id)
          ? 'being built, cloned from or deleted'
          : Date.parse(record.builtAt) > cutoff
            ? `built less than ${unusedFor} ms ago`
            : undefined;
    if (reason) kept.push({ kind: 'image', id: image.id, reason });
    else candidates.push(image.id);
  }
  const masterBytes = await measureMasters(parts, candidates);
  for (const [i, id] of candidates.entries()) {
    throwIfAborted(options.signal, 'prune');
    const item: PrunedItem = {
      kind: 'image',
      id,
      imageId: id,
      ...(masterBytes[i] ? { bytes: masterBytes[i] } : {}),
    };
    if (dryRun) {
      removed.push(item);
      continue;
    }
    report(`removing image ${id}`);
    try {
      await parts.deleteImage(id);
      removed.push(item);
    } catch (error) {
      // A node made or a build started since the listing: the image is in use after all.
      if (VmkitError.is(error, 'CONFLICT')) kept.push({ kind: 'image', id, reason: error.message });
      else failed.push({ kind: 'image', id, error: messageOf(error) });
    }
  }
  if (!provider.listArtefacts || !provider.removeArtefact) return { dryRun, removed, kept, failed };
  const building = cache
    .list()
    .filter((image) => cache.building(image.id))
    .map((image) => image.id);
  const artefacts = await provider.listArtefacts();
  // Other processes' records and live build leases, read from the store now (the same rule as start-up).
  const owners = parts.liveness
    ? (await classifyArtefacts(parts.liveness, artefacts, owned)).owned
    : undefined;
  for (const artefact of artefacts) {
    // A recorded master's own parts are accounted for by its image above.
    if (owned.has(artefact.masterId) || owners?.get(artefact) === 'its master is recorded') continue;
    const reason = leftoverReason(artefact, building, cutoff, unusedFor, owners?.get(artefact));
    if (reason) {
      kept.push({ kind: 'leftover', id: artefact.id, reason });
      continue;
    }
    throwIfAborted(options.signal, 'prune');
    const item: PrunedItem = {
      kind: 'leftover',
      id: artefact.id,
      ...(artefact.imageId ? { imageId: artefact.imageId } : {}),
      ...(artefact.bytes ? { bytes: artefact.bytes } : {}),
    };
    if (dryRun) {
      removed.push(item);
      continue;
    }
    report(`removing leftover ${artefact.kind} ${artefact.id}`);
    try {
      await provider.removeArtefact(artefact);
      removed.push(item);
    } catch (error) {
      failed.push({ kind: 'leftover', id: artefact.id, error: messageOf(error) });
    }
  }
  parts.logger.info('pruned', { dryRun, removed: removed.length, kept: kept.length, failed: failed.length });
  return { dryRun, removed, kept, failed };
}

/** The `unusedFor` of prune options, checked (`INVALID_ARGUMENT` naming it). */
export function checkUnusedFor(options: PruneImagesOptions): number {
  const unusedFor = options.unusedFor ?? 0;
  if (!Number.isFinite(unusedFor) || unusedFor < 0) {
    throw invalidArgument('unusedFor', `must be a number of milliseconds, 0 or more (got ${unusedFor})`);
  }
  return unusedFor;
}

/** Why a listed artefact stays, or `undefined` when it is a leftover to remove. */
function leftoverReason(
  artefact: ProviderArtefact,
  building: readonly string[],
  cutoff: number,
  unusedFor: number,
  owner: string | undefined,
): string | undefined {
  if (artefact.inUse) return 'in use';
  if (building.some((id) => belongsToImage(artefact.masterName, id) || artefact.imageId === id)) {
    return 'a build of its image is running';
  }
  if (owner) return owner;
  const made = artefact.createdAt === undefined ? Number.NaN : Date.parse(artefact.createdAt);
  if (unusedFor > 0 && !(made <= cutoff)) return `made less than ${unusedFor} ms ago (or at an unknown time)`;
  return undefined;
}

/** Space of each image's masters (current and superseded), summed; empty when not measurable. */
async function measureMasters(
  parts: HousekeepingParts,
  ids: readonly string[],
): Promise<Array<DiskBytes | undefined>> {
  if (!parts.provider.masterDiskUsage || ids.length === 0) return [];
  const groups = ids.map((id) => {
    const record = parts.cache.record(id);
    return record ? [record.master, ...(record.retired ?? [])] : [];
  });
  const sizes = await parts.provider.masterDiskUsage(groups.flat()).catch(() => undefined);
  if (!sizes) return [];
  let next = 0;
  return groups.map((refs) => sumBytes(refs.map(() => sizes[next++])));
}

/** Sums sizes, ignoring unknown ones; `undefined` when none is known. */
export function sumBytes(sizes: ReadonlyArray<DiskBytes | undefined>): DiskBytes | undefined {
  const known = sizes.filter((s): s is DiskBytes => s !== undefined);
  if (known.length === 0) return undefined;
  return {
    allocatedBytes: known.reduce((a, s) => a + s.allocatedBytes, 0),
    virtualBytes: known.reduce((a, s) => a + s.virtualBytes, 0),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
