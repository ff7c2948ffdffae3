import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ensurePrivateDir, userCacheHome } from '@vmkit/core/internal';
import type { ImportServiceOptions, ResolvedImportOptions } from './import-service-options.js';

/** Where the import service keeps its folders by default: `<user cache>/vmkit/import`. */
export function defaultImportRoot(): string {
  return join(userCacheHome(), 'vmkit', 'import');
}

/**
 * Creates the service's working folders. The default ones (scratch, records, images under
 * {@link defaultImportRoot}) are private: made 0700 and checked with `lstat` (a real folder, yours,
 * no group or other bits), `vmkit` and `vmkit/import` included, refused otherwise. Folders the
 * caller chose are made 0700 when missing and otherwise used as they are.
 */
export async function prepareWorkingFolders(
  options: ImportServiceOptions,
  resolved: ResolvedImportOptions,
): Promise<void> {
  const folders: Array<[dir: string, field: string, isDefault: boolean]> = [
    [resolved.scratchDir, 'scratchDir', options.scratchDir === undefined],
    [resolved.imageDir, 'imageDir', options.scratchDir === undefined && options.imageDir === undefined],
  ];
  if (options.store === undefined)
    folders.push([join(dirname(resolved.scratchDir), 'records'), 'store', options.scratchDir === undefined]);
  for (const [dir, field, isDefault] of folders) {
    if (isDefault) await ensurePrivateDir(dir, { field, base: userCacheHome() });
    else await mkdir(dir, { recursive: true, mode: 0o700 });
  }
}
