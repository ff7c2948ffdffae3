import type { Command } from 'commander';
import { type CliIo, CommandContext } from './command-context.js';

/**
 * Sets a command's action: it gets a {@link CommandContext} and the command's arguments and
 * options as commander parsed them. Errors propagate to `main`, which maps them to exit codes.
 */
export function defineAction<A extends unknown[]>(
  command: Command,
  io: CliIo,
  run: (ctx: CommandContext, ...args: A) => Promise<void>,
): Command {
  return command.action(async (...args: unknown[]) => {
    const self = args.at(-1) as Command;
    await run(new CommandContext(io, self), ...(args.slice(0, -1) as A));
  });
}

/** Adds the `--json` flag and an example to a command's help. */
export function withJsonAndExample(command: Command, example: string): Command {
  return command
    .option('--json', 'print the result as JSON (for scripts)')
    .addHelpText('after', `\nExample:\n  ${example}\n`);
}
