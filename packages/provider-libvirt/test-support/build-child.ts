import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MasterSpec } from '@vmkit/core';
import { type FixtureChild, spawnFixture } from '../../core/src/compute/process-fixture.fixture.js';

const MAIN = fileURLToPath(new URL('./build-main.mjs', import.meta.url));

/** Where and how a {@link spawnBuildChild} process builds. */
export interface BuildChildOptions {
  readonly uri: string;
  readonly pool: string;
  readonly prefix: string;
  /** The test's folder: the store is `<dir>/store`, the port leases `<dir>/ports`. */
  readonly dir: string;
  readonly spec: MasterSpec;
  readonly ttlMs: number;
  /** The child's TMPDIR (made if missing). */
  readonly tmp: string;
}

/**
 * Starts one process of `build-main.mjs` (on the built packages): a compute service on the pool
 * and the store under `dir` that asks for `spec`, printing its progress events as JSON lines.
 */
export function spawnBuildChild(o: BuildChildOptions): FixtureChild {
  mkdirSync(o.tmp, { recursive: true });
  return spawnFixture(MAIN, {
    VMKIT_URI: o.uri,
    VMKIT_POOL: o.pool,
    VMKIT_PREFIX: o.prefix,
    VMKIT_STORE: join(o.dir, 'store'),
    VMKIT_LEASES: join(o.dir, 'ports'),
    VMKIT_IMAGES: JSON.stringify([o.spec]),
    VMKIT_LEASE_TTL_MS: String(o.ttlMs),
    TMPDIR: o.tmp,
  });
}
