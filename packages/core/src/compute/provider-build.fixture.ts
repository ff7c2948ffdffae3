import { fileURLToPath } from 'node:url';
import type { MasterSpec } from '../model/master-spec.js';
import { type FixtureChild, spawnFixture } from './process-fixture.fixture.js';

const MAIN = fileURLToPath(new URL('./provider-build-main.fixture.mjs', import.meta.url));

/** What a {@link spawnProviderBuild} process builds, on which provider, store and leases. */
export interface ProviderBuildOptions {
  /** The provider's package and factory, e.g. `@vmkit/provider-libvirt` and `libvirtProvider`. */
  readonly module: string;
  readonly factory: string;
  /** The factory's options (JSON: no functions). */
  readonly options: Record<string, unknown>;
  /** The filesystem store's root and the port leases' folder. */
  readonly store: string;
  readonly leases: string;
  readonly spec: MasterSpec;
  readonly ttlMs: number;
  /** More environment for the child (e.g. its TMPDIR). */
  readonly env?: Record<string, string>;
}

/**
 * Starts one builder process (`provider-build-main.fixture.mjs`, on the built packages): a compute
 * service on the named provider and a filesystem store that asks for `spec`, printing its progress
 * events as JSON lines, then `{ done: { pid, builtAt, ms } }`.
 */
export function spawnProviderBuild(o: ProviderBuildOptions): FixtureChild {
  return spawnFixture(MAIN, {
    VMKIT_PROVIDER_MODULE: o.module,
    VMKIT_PROVIDER_FACTORY: o.factory,
    VMKIT_PROVIDER_OPTIONS: JSON.stringify(o.options),
    VMKIT_STORE: o.store,
    VMKIT_LEASES: o.leases,
    VMKIT_IMAGES: JSON.stringify([o.spec]),
    VMKIT_LEASE_TTL_MS: String(o.ttlMs),
    ...o.env,
  });
}
