import type { BootIsoCache } from './boot-iso-cache.js';

/** A boot ISO cache that counts what it is asked for and the ISOs it had to remaster. */
export interface CountingBootIsoCache extends BootIsoCache {
  /** Leases handed out. */
  readonly gets: number;
  /** Leases that were not hits: ISOs remastered. */
  readonly remastered: number;
}

/** Wraps a real cache (for tests): every call goes to it; leases are counted. */
export function countingBootIsoCache(cache: BootIsoCache): CountingBootIsoCache {
  let gets = 0;
  let remastered = 0;
  return {
    get gets() {
      return gets;
    },
    get remastered() {
      return remastered;
    },
    async get(source, kernelParams, options) {
      const lease = await cache.get(source, kernelParams, options);
      gets++;
      if (!lease.hit) remastered++;
      return lease;
    },
    prune: () => cache.prune(),
    size: () => cache.size(),
  };
}
