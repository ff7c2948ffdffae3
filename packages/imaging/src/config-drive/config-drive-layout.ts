import type { ConfigDriveFilesystem } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core';
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
 * (a file may not replace `user-data`, nor be placed inside it).
 */
export function addDriveFiles(
  entries: MediaEntry[],
  files: ReadonlyArray<{ readonly path: string; readonly content: string | Uint8Array }> | undefined,
): void {
  const generated = new Set(entries.map((e) => e.path));
  (files ?? []).forEach((file, i) => {
    const field = `spec.files[${i}].path`;
    const parts = splitPath(file.path, field);
    for (let n = 1; n <= parts.length; n++) {
      const prefix = parts.slice(0, n).join('/');
      if (generated.has(prefix))
        throw invalidArgument(field, `'${file.path}' collides with the generated '${prefix}'`);
    }
    entries.push({ path: parts.join('/'), content: file.content });
  });
}
