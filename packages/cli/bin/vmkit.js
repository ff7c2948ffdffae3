#!/usr/bin/env node
// The `vmkit` executable: runs the command line on the process's arguments and streams. Kept as
// plain JavaScript in git, so it stays executable without a build step.
//
// It loads the bundle (dist/bundle/, made by scripts/bundle.mjs after `tsc -b`): a few files
// instead of hundreds, which halves start-up. In a checkout where `tsc -b` ran after the bundle
// was made (a package's build info is newer), the bundle is stale and the compiled dist/ runs.
import { statSync } from 'node:fs';

const BUNDLE = '../dist/bundle/vmkit.js';
const BUILD_INFOS = [
  '../dist/.tsbuildinfo',
  ...['core', 'imaging', 'import', 'provider-libvirt', 'provider-virtualbox', 'store-s3'].map(
    (p) => `../../${p}/dist/.tsbuildinfo`,
  ),
];

/** The modification time of a file beside this one, or NaN when there is none. */
function mtime(path) {
  try {
    return statSync(new URL(path, import.meta.url)).mtimeMs;
  } catch {
    return Number.NaN;
  }
}

const bundled = mtime(BUNDLE);
const fresh = !Number.isNaN(bundled) && BUILD_INFOS.every((info) => !(mtime(info) > bundled));
const { main } = await import(fresh ? BUNDLE : '../dist/main.js');

process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
