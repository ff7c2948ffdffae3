import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MasterSpec } from '@vmkit/core';
import type { FixtureChild } from '../../core/src/compute/process-fixture.fixture.js';
import { spawnProviderBuild } from '../../core/src/compute/provider-build.fixture.js';

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
 * Starts one builder process (core's `spawnProviderBuild`, on the built packages): a compute
 * service on the pool and the store under `dir` that asks for `spec`, printing its progress
 * events as JSON lines.
 */
export function spawnBuildChild(o: BuildChildOptions): FixtureChild {
  mkdirSync(o.tmp, { recursive: true });
  return spawnProviderBuild({
    module: '@vmkit/provider-libvirt',
    factory: 'libvirtProvider',
    options: { uri: o.uri, pool: o.pool, namePrefix: o.prefix },
    store: join(o.dir, 'store'),
    leases: join(o.dir, 'ports'),
    spec: o.spec,
    ttlMs: o.ttlMs,
    env: { TMPDIR: o.tmp },
  });
}
