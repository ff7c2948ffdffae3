import type { OperationOptions } from '../util/progress.js';

/** Options of `ComputeService.createNodesInGroup`. */
export interface CreateNodesOptions extends OperationOptions {
  /**
   * Resume each node from the image's saved running template instead of booting it (the image's
   * spec must have `warm`; the provider's `capabilities().warmClones` must be true). The first warm
   * call saves the template state; a node whose state cannot be used boots cold and says so
   * (`NodeMetadata.warm`). See the guide "Warm clones".
   */
  readonly warm?: boolean;
}
