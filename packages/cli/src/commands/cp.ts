import type { GuestTransportKind } from '@vmkit/core';
import { Command } from 'commander';
import { formatBytes } from '../output/format.js';
import type { CliIo } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';
import { parseModeFlag, transportOption } from './guest-flags.js';

/** `vmkit cp SRC NODE:PATH` and `vmkit cp NODE:PATH DST`: one file in or out, SHA-256 checked. */
export function cpCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('cp')
      .description(
        'copy a file into a running node (SRC NODE:/PATH) or out of one (NODE:/PATH DST) through its guest agent or SSH, SHA-256 checked on both ends; - is standard input or output',
      )
      .argument('<src>', 'a host file, - (standard input), or NODE:/PATH')
      .argument(
        '<dst>',
        'NODE:/PATH (ending in / for a directory), or a host path or directory, or - (standard output)',
      )
      .option('-m, --mode <octal>', 'file mode in the guest (default 644)', parseModeFlag)
      .option('-o, --owner <user[:group]>', 'owner in the guest (default: the user the transport runs as)')
      .addOption(transportOption()),
    'vmkit cp app.tar.gz web-1a2b:/opt/ --mode 600 --owner app && vmkit cp web-1a2b:/var/log/app.log - | tail',
  );
  return defineAction(
    command,
    io,
    async (
      ctx,
      source: string,
      destination: string,
      opts: { mode?: number; owner?: string; transport?: GuestTransportKind },
    ) => {
      const [{ planCopy }, { copyWithNode }] = await Promise.all([
        import('../runtime/copy-ends.js'),
        import('../runtime/copy-with-node.js'),
      ]);
      const plan = planCopy(source, destination);
      const report = await ctx.withService(
        (service, signal) => copyWithNode(service, plan, { ...opts, json: ctx.json }, io, signal),
        { readOnly: true },
      );
      if (ctx.json) return ctx.printJson(report);
      // Standard output carries the file itself when DST is -: nothing else goes there.
      if (report.destination === '-') return;
      ctx.print(
        `${report.source} -> ${report.destination}: ${formatBytes(report.bytes)}, sha256 ${report.sha256}, over ${report.transport}`,
      );
    },
  );
}
