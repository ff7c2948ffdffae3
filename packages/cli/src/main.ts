import type { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { dropOutputOnBrokenPipe } from './runtime/broken-pipe.js';
import type { CliIo } from './runtime/cli-io.js';
import { EXIT_CODES, exitCodeOf } from './runtime/exit-codes.js';

/**
 * Runs `vmkit` with `argv` (without node and the script) and returns the exit code: 0, or the
 * code of the failure's kind (see {@link EXIT_CODES}). Failures print one line on stderr. A reader
 * that closes stdout or stderr early (`vmkit --help | head -1`) ends the output quietly.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  dropOutputOnBrokenPipe(io.stdout);
  dropOutputOnBrokenPipe(io.stderr);
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_CODES.OK;
  } catch (error) {
    const commander = error as Partial<CommanderError>;
    if (typeof commander.code === 'string' && commander.code.startsWith('commander.')) {
      // commander printed its message already.
      const done = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(
        commander.code,
      );
      return done ? EXIT_CODES.OK : EXIT_CODES.INVALID_ARGUMENT;
    }
    const code = exitCodeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`vmkit: ${message}\n`);
    if (code === EXIT_CODES.INTERNAL && error instanceof Error && error.stack)
      io.stderr.write(`${error.stack}\n`);
    return code;
  }
}
