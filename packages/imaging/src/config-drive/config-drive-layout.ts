import type { ConfigDriveFilesystem } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core/spi';
import type { MediaEntry } from '../media-entry.js';
import { splitPath } from '../media-tree.js';

/** The files of a config drive and the label its filesystem carries. */
export interface ConfigDriveLayout {
  /** Filesystem label guests look for (`cidata`, `config-2`, `OVF ENV`). */
  readonly label: string;
  /** Filesystem to write. */
  readonly filesystem: ConfigDriveFilesystem;
  /** The files, in a stable order. */
  readonly entries: readonly MediaEntry[];
}

/**
 * Adds the spec's extra files at relative drive paths, refusing paths the layout itself writes
 * (a file may not replace `user-data`, nor be placed inside it). On `vfat`, whose names are
 * case-insensitive, `META-DATA` collides with `meta-data` too.
 */
export function addDriveFiles(
  entries: MediaEntry[],
  files: ReadonlyArray<{ readonly path: string; readonly content: string | Uint8Array }> | undefined,
  filesystem: ConfigDriveFilesystem = 'iso9660',
): void {
  const fold = filesystem === 'vfat' ? (p: string) => p.toUpperCase() : (p: string) => p;
  const generated = new Map(entries.map((e) => [fold(e.path), e.path]));
  (files ?? []).forEach((file, i) => {
    const field = `spec.files[${i}].path`;
    const parts = splitPath(file.path, field);
    for (let n = 1; n <= parts.length; n++) {
      const prefix = parts.slice(0, n).join('/');
      const clash = generated.get(fold(prefix));
      if (clash !== undefined) {
        const how = clash === prefix ? '' : ` (${filesystem} names are case-insensitive)`;
        throw invalidArgument(field, `'${file.path}' collides with the generated '${clash}'${how}`);
      }
    }
    entries.push({ path: parts.join('/'), content: file.content });
  });
}
