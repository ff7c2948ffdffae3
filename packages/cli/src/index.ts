/**
 * `@vmkit/cli`: the `vmkit` command. Its programmatic entry runs the command line in-process,
 * for wrappers and tests; the command itself is the package's `vmkit` bin.
 *
 * @packageDocumentation
 */

export { main } from './main.js';
export type { CliIo } from './runtime/cli-io.js';
export { EXIT_CODES, exitCodeOf } from './runtime/exit-codes.js';
