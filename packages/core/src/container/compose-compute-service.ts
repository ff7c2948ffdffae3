import type { ResolvedComputeServiceOptions } from '../compute/compute-service-options.js';
import { NodeLauncher } from '../compute/node-launcher.js';
import { NodeOwner } from '../compute/node-owner.js';
import { VmkitComputeService } from '../compute/vmkit-compute-service.js';
import { NodeCredentials } from '../credentials/node-credentials.js';
import { sshTransportFactory } from '../guest/ssh/ssh-transport-factory.js';
import { BuildLeases } from '../masters/build-lease.js';
import { MasterCache } from '../masters/master-cache.js';
import { MasterRepository, providerNamespace } from '../masters/master-repository.js';
import { SharedMasters } from '../masters/shared-masters.js';

import { PortAllocator } from '../ports/port-allocator.js';

/** The lease folder hosts share when masters are shared (provider namespaces are `p-<hex>`). */
const SHARED_LEASE_NAMESPACE = 'shared';
/** The folder of owner leases: owner ids are random, so every host on the store shares it. */
const OWNER_LEASE_NAMESPACE = 'owners';

/** The parts of a compute service, wired but not yet initialised. */
export interface ComposedParts {
  readonly repository: MasterRepository;
  readonly cache: MasterCache;
  readonly leases: BuildLeases;
  /** With `shareMasters`: this host's adoption leases, in the fleet's lease folder under its own namespace. */
  readonly adoptions: BuildLeases | undefined;
  readonly ports: PortAllocator;
  readonly launcher: NodeLauncher;
  readonly service: VmkitComputeService;
}

/**
 * Wires every part of a compute service by hand, as kysely composes a dialect: the one composition
 * root shared by `createComputeService` and the `@vmkit/core/inversify` module, so neither the
 * root entry nor its callers load a container library.
 */
export function composeComputeService(options: ResolvedComputeServiceOptions): ComposedParts {
  const { provider, store, logger } = options;
  const repository = new MasterRepository(store, {
    container: options.container,
    // Read at init, after the provider connected: its id may name the host it found.
    providerId: () => provider.id,
    logger,
    // Every record loaded is checked against what the provider would have made, and signed when asked.
    trust: { checkRef: provider.checkMasterRef?.bind(provider), signer: options.signer },
  });
  const leases = new BuildLeases(
    store,
    {
      container: `${options.container}-leases`,
      // With shareMasters the fleet builds each master once: one lease folder for every host.
      namespace: () => (options.shareMasters ? SHARED_LEASE_NAMESPACE : providerNamespace(provider.id)),
    },
    options.buildLease,
    logger,
  );
  // One adoption of an image at a time per hypervisor, while hosts adopt in parallel; under the
  // shared folder, so every liveness check (which lists it) sees the master being adopted.
  const adoptions = options.shareMasters
    ? new BuildLeases(
        store,
        {
          container: `${options.container}-leases`,
          namespace: () => `${SHARED_LEASE_NAMESPACE}/${providerNamespace(provider.id)}`,
        },
        options.buildLease,
        logger,
      )
    : undefined;
  // Owner leases of ephemeral nodes: the same lease machinery, in a container of their own.
  const owner = new NodeOwner(
    new BuildLeases(
      store,
      { container: `${options.container}-owners`, namespace: OWNER_LEASE_NAMESPACE },
      options.ephemeralNodes.lease,
      logger,
    ),
    logger,
  );
  const cache = new MasterCache(provider, repository, logger, {
    ...options.cache,
    builds: options.concurrency.builds,
    ...(options.shareMasters
      ? {
          shared: new SharedMasters(provider, store, {
            container: `${options.container}-shared`,
            logger,
            signer: options.signer,
          }),
        }
      : {}),
    leases,
    ...(adoptions ? { adoptions } : {}),
  });
  const ports = new PortAllocator(options.ports);
  const credentials = new NodeCredentials(options.credentials, () => provider.id);
  const launcher = new NodeLauncher(provider, ports, logger, options.concurrency.clones, credentials);
  const service = new VmkitComputeService({
    provider,
    repository,
    cache,
    leases,
    adoptions,
    owner,
    destroyOnClose: options.ephemeralNodes.destroyOnClose,
    launcher,
    nodeCredentials: credentials,
    sshTransport: sshTransportFactory({ credentials, logger }),
    ports,
    logger,
    images: options.images,
    boxReader: options.boxReader,
    clones: options.concurrency.clones,
  });
  return { repository, cache, leases, adoptions, ports, launcher, service };
}
