import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { invalidArgument } from '@vmkit/core/spi';
import type { Settings } from './settings.js';

/** The keys of an image source that name a local file (disk and ISO `path`, `kernel`, `initrd`). */
const LOCAL_FILE_KEYS = Object.freeze(['path', 'kernel', 'initrd']);

/** A configured image whose source names a local file that is not there. */
export interface MissingSource {
  /** The config field, e.g. `images[0].source.kernel`. */
  readonly field: string;
  /** The path it names (absolute). */
  readonly path: string;
  /** Why the image cannot be built, naming the field and the fix. */
  readonly reason: string;
}

/**
 * Checks, when the configuration is loaded, that the local files the image sources name exist
 * (paths already made absolute; URLs are not checked). Returns the first missing file of each
 * image, by image id: such an image is shown `broken` by `vmkit images` and refused by `build`
 * and `up` before any work starts.
 */
export async function findMissingSources(
  images: readonly Record<string, unknown>[],
): Promise<Readonly<Record<string, MissingSource>>> {
  const missing: Record<string, MissingSource> = {};
  for (const [i, spec] of images.entries()) {
    const source = spec.source;
    if (typeof spec.id !== 'string' || typeof source !== 'object' || source === null) continue;
    for (const key of LOCAL_FILE_KEYS) {
      const path = (source as Record<string, unknown>)[key];
      if (
        typeof path !== 'string' ||
        !isAbsolute(path) ||
        (await stat(path).then(
          () => true,
          () => false,
        ))
      )
        continue;
      const field = `images[${i}].source.${key}`;
      missing[spec.id] = {
        field,
        path,
        reason: `${field}: ${path} does not exist (fix the path in the config, or remove the image)`,
      };
      break;
    }
  }
  return missing;
}

/**
 * Refuses to build or clone `imageId` when its source names a missing local file:
 * `INVALID_ARGUMENT` (exit 2) naming the config file, the field and the fix.
 */
export function assertSourcePresent(settings: Settings, imageId: string): void {
  const missing = settings.missingSources?.[imageId];
  if (!missing) return;
  const where = settings.configFile ? `${settings.configFile}: ` : '';
  throw invalidArgument(
    `${where}${missing.field}`,
    `${missing.path} does not exist (fix the path, or remove image ${imageId})`,
    { imageId, path: missing.path, ...(settings.configFile ? { file: settings.configFile } : {}) },
  );
}
