import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The path of `relative` inside the @vmkit/cli package (where package.json and bin/ are). Found
 * by walking up from this module, so it holds both for the compiled files (dist/runtime/) and for
 * the bundle (dist/bundle/), which sit at different depths.
 */
export function cliPackageFile(relative: string): string {
  if (root === undefined) {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, 'bin', 'vmkit.js')) && dirname(dir) !== dir) dir = dirname(dir);
    root = dir;
  }
  return join(root, relative);
}
