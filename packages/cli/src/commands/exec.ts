import type { GuestTransportKind } from '@vmkit/core';
import { Command } from 'commander';
import type { CliIo } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';
import { parseEnvFlag, parsePositiveDuration, transportOption } from './guest-flags.js';

/** `vmkit exec NODE -- CMD ARGS…`: runs a command in a running node; its exit code is vmkit's. */
export function execCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('exec')
      .description(
        "run a command in a running node (by id or name) through its guest agent or SSH: its output streams as it comes, standard input is passed on when it is not a terminal, and vmkit exits with the command's exit code",
      )
      .argument('<node>', 'node id or name')
      .argument(
        '<command...>',
        'the command and its arguments, after -- (run as given, no shell: sh -c for one)',
      )
      .option('-u, --user <user>', 'guest user to run as (default root)')
      .option('-e, --env <NAME=VALUE>', 'an environment variable; repeatable', parseEnvFlag)
      .option('-w, --cwd <dir>', 'working directory in the guest (absolute)')
      .option(
        '-t, --timeout <duration>',
        'kill the command after this long, exit 7 (e.g. 30s, 5m)',
        parsePositiveDuration,
      )
      .addOption(transportOption())
      .option('--no-stdin', 'do not pass standard input on (as ssh -n)'),
    "vmkit exec web-1a2b --user app --env MODE=ci -- sh -c 'id -u; uname -r'",
  ).addHelpText(
    'after',
    '  (--json prints { exitCode, stdout, stderr, truncated, durationMs, transport } at the end instead of streaming)\n',
  );
  return defineAction(
    command,
    io,
    async (
      ctx,
      node: string,
      argv: string[],
      opts: {
        user?: string;
        env?: Array<readonly [string, string]>;
        cwd?: string;
        timeout?: number;
        transport?: GuestTransportKind;
        stdin: boolean;
      },
    ) => {
      const { execOnNode } = await import('../runtime/exec-on-node.js');
      const result = await ctx.withService(
        (service, signal) =>
          execOnNode(
            service,
            {
              node,
              argv,
              options: {
                ...(opts.user !== undefined ? { user: opts.user } : {}),
                ...(opts.env !== undefined ? { env: Object.fromEntries(opts.env) } : {}),
                ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
                ...(opts.timeout !== undefined ? { timeoutMs: opts.timeout } : {}),
                ...(opts.transport !== undefined ? { transport: opts.transport } : {}),
              },
              stdin: opts.stdin,
              json: ctx.json,
            },
            io,
            signal,
          ),
        { readOnly: true },
      );
      if (ctx.json) ctx.printJson(result);
      process.exitCode = result.exitCode;
    },
  );
}
