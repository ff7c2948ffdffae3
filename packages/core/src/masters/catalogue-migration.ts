import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { Logger } from '../util/logger.js';
import type { MasterRecord } from './master-record.js';
import { type MasterRepository, providerNamespace } from './master-repository.js';

/** What {@link migrateCatalogue} did. */
export interface CatalogueMigration {
  /** The earlier id whose catalogue was read, when one was. */
  readonly from?: string;
  /** Records copied into the provider's current namespace. */
  readonly moved: number;
  /** Records left behind: their masters are not on this host (another host's, or gone). */
  readonly leftBehind: number;
}

const NOTHING: CatalogueMigration = { moved: 0, leftBehind: 0 };

/**
 * Carries a catalogue written under one of the provider's earlier ids (before ids named the host)
 * over to its current id, once: only when the current namespace has no record yet, and only the
 * records whose masters exist on this host. The old records stay where they are, because another
 * host sharing the store may own some of them and migrate them in turn.
 */
export async function migrateCatalogue(
  repository: MasterRepository,
  provider: HypervisorProvider,
  logger: Logger,
): Promise<CatalogueMigration> {
  const { store, container } = repository;
  const previous = (provider.previousIds ?? []).filter((id) => id !== provider.id);
  if (previous.length === 0) return NOTHING;
  const current = await store.list(container, { prefix: repository.prefix, maxKeys: 1 });
  if (current.items.length > 0) return NOTHING;
  for (const from of previous) {
    const prefix = `${providerNamespace(from)}/`;
    const records: MasterRecord[] = [];
    let marker: string | undefined;
    do {
      const page = await store.list(container, { prefix, marker });
      for (const item of page.items) {
        if (!item.name.endsWith('.json') || item.name.slice(prefix.length).includes('/')) continue;
        const blob = await store.getBlob(container, item.name);
        if (!blob) continue;
        try {
          // Checked as a load checks it (names, signature, the provider's rules) before mastersExist sees it.
          records.push(await repository.validate(item.name, JSON.parse(await blob.text()), prefix));
        } catch (error) {
          logger.warn('not migrating a master record that does not validate', {
            blob: item.name,
            reason: error instanceof Error ? error.message : String(error),
          });
        }
      }
      marker = page.nextMarker;
    } while (marker !== undefined);
    if (records.length === 0) continue;
    const here = await provider.mastersExist(records.map((r) => r.master));
    let moved = 0;
    for (const [i, record] of records.entries()) {
      if (!here[i]) continue;
      await repository.save({ ...record, providerId: provider.id });
      moved++;
    }
    const result = { from, moved, leftBehind: records.length - moved };
    logger.info('migrated the master catalogue of an earlier provider id', { ...result, to: provider.id });
    return result;
  }
  return NOTHING;
}
