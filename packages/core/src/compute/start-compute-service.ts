import { invalidArgument, toVmkitError, VmkitError } from '../errors/vmkit-error.js';
import { migrateCatalogue } from '../masters/catalogue-migration.js';
import { throwIfAborted } from '../util/abort.js';
import { emitProgress, type OperationOptions } from '../util/progress.js';
import { loadValidators } from '../validation/load-validators.js';
import { readBoxSpec } from './box-spec.js';
import { leaseOwner } from './node-view.js';
import { reapNodes } from './reap-nodes.js';
import { recoverCrashedBuilds } from './recover-crashed-builds.js';
import type { ComputeServiceParts } from './vmkit-compute-service.js';

/**
 * Starts a compute service's parts: loads the checks, connects the provider, registers the
 * configured images (naming a bad one by its index), opens the metadata store, loads and verifies
 * persisted masters, releases port leases of nodes that are gone and collects superseded masters.
 * On failure the provider is closed again and the error says which part failed. Reports `load`
 * progress events and stops with `ABORTED` between parts once the signal fires.
 */
export async function startComputeService(
  parts: ComputeServiceParts,
  options: OperationOptions = {},
): Promise<void> {
  const { provider, repository, cache, images, logger, ports } = parts;
  const { signal } = options;
  const load = (fraction: number, message: string) => {
    throwIfAborted(signal, 'start-up');
    emitProgress(options.onProgress, { phase: 'load', fraction, message });
  };
  load(0, `connecting ${provider.name}`);
  await loadValidators();
  await provider.init?.();
  try {
    load(0.2, `${provider.name} connected`);
    for (const [i, spec] of images.entries()) {
      try {
        cache.register(await readBoxSpec(spec, parts.boxReader, signal));
      } catch (error) {
        if (VmkitError.is(error, 'INVALID_ARGUMENT')) {
          throw invalidArgument(`images[${i}]`, error.message, { cause: error });
        }
        throw error;
      }
    }
    try {
      await repository.init();
      await parts.leases.init();
      await parts.adoptions?.init();
      await parts.owner.init();
    } catch (error) {
      throw toVmkitError(error, 'STORE', `opening the metadata store (container ${repository.container})`);
    }
    load(0.3, 'loading the master catalogue');
    await migrateCatalogue(repository, provider, logger);
    const quarantined = await cache.load();
    load(0.8, `catalogue loaded: ${cache.list().length} images, ${quarantined.length} quarantined`);
    if (quarantined.length > 0)
      logger.warn('some master metadata was quarantined', { count: quarantined.length });
    const known = new Set<string>();
    for (const image of cache.list()) {
      const record = cache.record(image.id);
      for (const ref of record ? [record.master, ...(record.retired ?? [])] : []) known.add(ref.id);
    }
    await recoverCrashedBuilds({ ...parts, known }).catch((error: unknown) => {
      logger.warn('could not look for what crashed builds left; pruneImages can', { error: String(error) });
    });
    await reapNodes(parts).catch((error: unknown) => {
      logger.warn('could not reap ephemeral nodes of dead owners; reapNodes can', { error: String(error) });
    });
    const nodes = await provider.listNodes();
    let released = 0;
    for (const id of [provider.id, ...(provider.previousIds ?? [])]) {
      const live = new Set(nodes.map((n) => leaseOwner(id, n.name)));
      released += await ports.reconcile(`${id}/`, live);
    }
    if (released > 0) logger.info('released port leases of nodes that are gone', { released });
    for (const id of cache.withRetired()) await cache.collectRetired(id);
    load(1, 'ready');
  } catch (error) {
    await provider.close?.().catch(() => {});
    if (VmkitError.is(error, 'ABORTED')) throw error;
    throw toVmkitError(error, 'PROVIDER', 'starting the compute service');
  }
}
