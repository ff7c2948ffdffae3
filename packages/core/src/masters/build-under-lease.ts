import { removeDeadBuild } from '../compute/remove-dead-build.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { Logger } from '../util/logger.js';
import { emitProgress } from '../util/progress.js';
import { adoptAndRecord, type BuildRequest, buildAndRecord, newMasterName } from './build-and-record.js';
import type { BuildLeases, Settled } from './build-lease.js';
import type { MasterRecord } from './master-record.js';
import type { MasterRepository } from './master-repository.js';

/** The leases a build under lease takes. */
export interface MasterLeases {
  /** The image's build lease: fleet-wide with `shareMasters`, else the provider's namespace. */
  readonly build: BuildLeases;
  /**
   * With `shareMasters`: leases in this host's own namespace, so that of the processes sharing a
   * hypervisor one adopts a published master at a time, while other hosts adopt it in parallel.
   */
  readonly adopt?: BuildLeases | undefined;
}

/**
 * Builds a master once however many processes ask. With `shareMasters`, a master the fleet has
 * published is adopted under this host's adoption lease only, never the fleet-wide build lease, so
 * every host adopts at once; only a build takes the fleet-wide lease, and a host waiting for it stops
 * waiting as soon as it sees the lease free with the master published, and adopts it. Otherwise (or
 * when nothing is published) the host takes the image's build lease (waiting while another process
 * builds), then re-reads the image's record, which another process may have written meanwhile. A
 * record of the same spec whose master exists is used as it is; otherwise this process builds
 * under the lease. Losing the lease mid-build aborts and rolls back the build, and the host looks
 * again: it waits for the process that took the lease over and adopts or uses its master.
 * Taking over a lapsed lease first removes what the lapsed build left (see `removeDeadBuild`).
 */
export async function buildUnderLease(
  provider: HypervisorProvider,
  repository: MasterRepository,
  leases: MasterLeases,
  logger: Logger,
  request: BuildRequest,
): Promise<MasterRecord> {
  const { spec, hash, shared } = request;
  const adoptLeases = shared && leases.adopt;
  let unusable = false;
  // Set when the wait for the build lease ended because the master was published: not asked again.
  let seenPublished = false;
  const published: Settled = Object.assign(
    async () => {
      seenPublished = (await shared?.published(hash)) ?? false;
      return seenPublished;
    },
    {
      changed: shared?.canWatch
        ? (signal: AbortSignal) => shared.publicationChanged(hash, signal)
        : undefined,
    },
  );
  for (;;) {
    const masterName = newMasterName(spec, hash);
    if (adoptLeases && !unusable && (seenPublished || (await shared.published(hash)))) {
      seenPublished = false;
      const adopted = await underLease(adoptLeases, { ...request, masterName }, async (stored, lost) => {
        const record = await adoptAndRecord(provider, repository, logger, {
          ...request,
          previous: stored,
          masterName,
          signal: AbortSignal.any([request.signal, lost]),
        });
        // Unusable (logged, counted by SharedMasters): built under the fleet-wide lease below,
        // where it is not tried again (nor published: the fleet's record stands).
        unusable = record === undefined;
        return record;
      });
      if (adopted) return adopted;
      if (!unusable) continue; // the adoption lease was lost: adopt again
    }
    const built = await underLease(
      leases.build,
      { ...request, masterName },
      (stored, lost) =>
        buildAndRecord(provider, repository, logger, {
          ...request,
          ...(unusable ? { shared: undefined } : {}),
          previous: stored,
          masterName,
          signal: AbortSignal.any([request.signal, lost]),
        }),
      adoptLeases && !unusable ? published : undefined,
      // Reached with `settled` only when it was asked just above (and answered false).
      true,
    );
    if (built) return built;
    // Published while this host waited for the build lease (adopt it, in parallel with the others),
    // or the lease was lost mid-build: look again.
  }

  /**
   * Runs `work` under a lease of `place`, unless the image's record (re-read under the lease)
   * names a master of this spec that exists. `undefined` when `settled` ended the wait, the lease
   * was lost to another process (its work rolled back), or `work` answered `undefined`.
   */
  async function underLease(
    place: BuildLeases,
    request: BuildRequest & { readonly masterName: string },
    work: (stored: MasterRecord | undefined, lost: AbortSignal) => Promise<MasterRecord | undefined>,
    settled?: Settled,
    askedNow = false,
  ): Promise<MasterRecord | undefined> {
    const lease = await place.acquireUnless(
      { imageId: spec.id, specHash: hash, masterName: request.masterName },
      settled,
      { signal: request.signal, onProgress: request.onProgress },
      askedNow,
    );
    if (!lease) return undefined;
    try {
      if (lease.tookOver) {
        // The previous holder died (or gave up): what its build made goes now, not at the next start-up.
        const removed = await removeDeadBuild(
          { provider, repository, leases: place, logger },
          lease.tookOver,
          spec.id,
        );
        if (removed.length > 0) {
          emitProgress(request.onProgress, {
            phase: 'build',
            imageId: spec.id,
            message: `removed ${removed.length} artefact(s) of the lapsed build ${lease.tookOver.masterName}`,
          });
        }
      }
      const stored = await repository.get(spec.id);
      if (stored?.specHash === hash) {
        const [exists] = await provider.mastersExist([stored.master]);
        if (exists) {
          logger.info('master was built by another process; using it', {
            imageId: spec.id,
            master: stored.master.id,
          });
          emitProgress(request.onProgress, {
            phase: 'build',
            imageId: spec.id,
            message: `using master ${stored.master.id} built by another process`,
            fraction: 1,
          });
          return stored;
        }
      }
      return await work(stored ?? request.previous, lease.lost);
    } catch (error) {
      // Too slow to renew (an overloaded store): another host took the lease over and this work
      // was rolled back. Not a fault of the image: look again, and wait for or adopt theirs.
      if (!lease.lost.aborted || request.signal.aborted) throw error;
      logger.info('lost the lease to another process; trying again', {
        imageId: spec.id,
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    } finally {
      await lease.release();
    }
  }
}
