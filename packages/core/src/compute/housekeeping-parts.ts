import type { MasterCache } from '../masters/master-cache.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { Logger } from '../util/logger.js';
import type { LivenessParts } from './build-liveness.js';

/** What `pruneImages` and `diskUsage` need from the compute service (internal). */
export interface HousekeepingParts {
  readonly provider: HypervisorProvider;
  readonly cache: Pick<MasterCache, 'list' | 'record' | 'building'>;
  readonly logger: Logger;
  /** Records and build leases in the store: artefacts of other processes' live builds stay. */
  readonly liveness?: LivenessParts;
  /** Whether the image is being built, cloned from or deleted in this process. */
  isBusy(imageId: string): boolean;
  /** The service's own `deleteImage` (refuses with `CONFLICT` when nodes use the image or it is busy). */
  deleteImage(imageId: string): Promise<void>;
}

/** Whether an artefact named for core's master `masterName` belongs to a build of `imageId`. */
export function belongsToImage(masterName: string, imageId: string): boolean {
  return masterName.startsWith(`vmkit-${imageId}-`);
}
