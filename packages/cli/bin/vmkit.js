#!/usr/bin/env node
// The `vmkit` executable: runs the command line (compiled into dist/) on the process's arguments
// and streams. Kept as plain JavaScript in git, so it stays executable without a build step.
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
