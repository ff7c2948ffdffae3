import { VmkitError } from '../errors/vmkit-error.js';
import { mapSettled } from '../util/concurrency.js';
import type { ComputeServiceParts } from './vmkit-compute-service.js';

/**
 * Deletes an image: refuses while nodes use it unless `force` (then destroys them first, keeping
 * the master if any survives, since it still depends on the master's disk), deletes its master
 * and superseded masters, removes its record and forgets it (a configured spec becomes buildable
 * again). The caller has already made sure no build, clone or other deletion of it is running.
 */
export async function removeImage(
  parts: ComputeServiceParts,
  id: string,
  options: { force?: boolean },
): Promise<void> {
  const { cache, provider, repository, launcher, images } = parts;
  const users = (await provider.listNodes()).filter((n) => n.imageId === id);
  if (users.length > 0 && !options.force) {
    throw new VmkitError(
      'CONFLICT',
      `image ${id} is used by ${users.length} node(s): ${users.map((n) => n.name).join(', ')}`,
      {
        details: { imageId: id, nodes: users.map((n) => n.id) },
      },
    );
  }
  const destroyed = await mapSettled(users, parts.clones, (n) => launcher.destroy(n.id, n.name));
  const failed = destroyed.findIndex((d) => d.status === 'rejected');
  if (failed >= 0) {
    // A node that survives still depends on the master's disk: keep the master.
    const reason = (destroyed[failed] as PromiseRejectedResult).reason;
    throw new VmkitError('PROVIDER', `image ${id} kept: node ${users[failed]?.name} could not be destroyed`, {
      cause: reason,
      details: { imageId: id },
    });
  }
  const record = cache.record(id);
  if (record) {
    for (const ref of [record.master, ...(record.retired ?? [])]) await provider.deleteMaster(ref);
  }
  await repository.remove(id);
  cache.forget(
    id,
    images.find((s) => s.id === id),
  );
}
