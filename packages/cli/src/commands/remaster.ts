import { basename } from 'node:path';
import { Command } from 'commander';
import type { CliIo } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';

/** Options of `vmkit remaster` as commander parses them. */
export interface RemasterFlags {
  readonly output: string;
  readonly params: string;
  readonly remove: readonly string[];
  readonly volumeId?: string;
}

/** Collects a repeatable option; `--remove "quiet splash"` also splits on spaces. */
function collectWords(value: string, previous: readonly string[]): string[] {
  return [...previous, ...value.split(/\s+/).filter(Boolean)];
}

/** `vmkit remaster ISO -o OUT --params "k=v ..."`: a bootable ISO with kernel parameters added. */
export function remasterCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('remaster')
      .description(
        'write a copy of a bootable ISO with kernel parameters added to every boot configuration (isolinux, GRUB, GRUB inside the EFI image); it still boots on BIOS and UEFI, as a CD and as a disk',
      )
      .argument('<iso>', 'the bootable ISO (never changed)')
      .requiredOption('-o, --output <file>', 'the ISO to write (nothing is left there on failure or Ctrl-C)')
      .requiredOption('--params <params>', 'kernel parameters to add, such as "auto=true priority=critical"')
      .option(
        '--remove <key>',
        'parameter to remove from every kernel line first (repeatable)',
        collectWords,
        [],
      )
      .option('--volume-id <id>', "volume id of the output (default: the source's)"),
    'vmkit remaster debian.iso -o auto.iso --params "auto=true url=http://10.0.0.1/preseed.cfg" --remove quiet',
  );
  return defineAction(command, io, async (ctx, iso: string, opts: RemasterFlags) => {
    const { remasterBootIso } = await import('@vmkit/imaging');
    const view = await ctx.progress();
    try {
      const label = basename(opts.output);
      view.listener({ phase: 'transfer', imageId: label, fraction: 0, message: `reading ${iso}` });
      const result = await ctx.withSignal((signal) =>
        remasterBootIso({
          source: iso,
          output: opts.output,
          kernelParams: opts.params,
          ...(opts.remove.length > 0 ? { removeParams: opts.remove } : {}),
          ...(opts.volumeId !== undefined ? { volumeId: opts.volumeId } : {}),
          signal,
          onProgress: (event) => view.listener({ ...event, imageId: label }),
        }),
      );
      view.stop();
      if (ctx.json) return ctx.printJson({ output: opts.output, ...result });
      ctx.print(`wrote ${opts.output} (${result.bytes} bytes)`);
      for (const p of result.patched) ctx.print(`patched ${p}`);
      for (const e of result.bootEntries) ctx.print(`boot ${e.platform} ${e.image}`);
    } finally {
      view.stop();
    }
  });
}
