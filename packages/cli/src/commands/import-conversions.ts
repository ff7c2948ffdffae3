import { resolve } from 'node:path';
import type { AnyTask, ConversionTask, ImportService } from '@vmkit/import';
import { Command } from 'commander';
import type { CliIo, CommandContext } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';
import { formatFromName, formatOption, IMPORT_FORMATS, isUrl, type OsFlag, osOption } from './import-args.js';

/** Flags `vmkit import volume` and `vmkit import instance` share. */
interface ConversionFlags {
  readonly format?: string;
  readonly scratch?: string;
}

/** Flags of `vmkit import instance`. */
interface InstanceFlags extends ConversionFlags {
  readonly os?: OsFlag;
  readonly platform?: 'Linux' | 'Windows';
  readonly instanceType?: string;
  readonly group?: string;
}

function withSourceOptions(command: Command): Command {
  return command
    .argument('<source>', 'a disk image file or an http(s) URL')
    .option(
      '-f, --format <format>',
      `the source's format (${IMPORT_FORMATS.join(', ')}); default: from its name`,
      formatOption(IMPORT_FORMATS),
    )
    .option('--scratch <dir>', 'directory for temporary files (default <store>/.import/scratch)');
}

/** The disk a source names: its location and format (`--format`, else its name's extension). */
async function diskOf(ctx: CommandContext, source: string, flag: string | undefined) {
  const format = flag ?? formatFromName(source);
  if (!format) {
    const { invalidArgument } = await import('@vmkit/core/spi');
    throw invalidArgument('--format', `is needed: ${source} does not name a format`);
  }
  return { format, ...(isUrl(source) ? { url: source } : { path: resolve(ctx.io.cwd, source) }) };
}

/** Opens the import service, starts a task with `start`, follows it to its end, and closes. */
async function runConversion(
  ctx: CommandContext,
  opts: ConversionFlags & { register?: boolean },
  start: (service: ImportService) => Promise<string>,
): Promise<ConversionTask> {
  const [{ openImports }, { followTask, assertCompleted }] = await Promise.all([
    import('../runtime/open-imports.js'),
    import('../runtime/follow-task.js'),
  ]);
  const settings = await ctx.settings();
  const view = await ctx.progress();
  try {
    return await ctx.withSignal(async (signal) => {
      const imports = await openImports(settings, {
        ...(opts.scratch ? { scratch: opts.scratch } : {}),
        register: opts.register === true,
        cwd: ctx.io.cwd,
      });
      try {
        const id = await start(imports.service);
        ctx.note(`conversion task ${id}`);
        const done: AnyTask = await followTask(imports.service, id, { signal, onProgress: view.listener });
        view.stop();
        await assertCompleted(done);
        return done as ConversionTask;
      } finally {
        await imports.close();
      }
    });
  } finally {
    view.stop();
  }
}

/** `vmkit import volume SOURCE`: AWS's ImportVolume, one disk converted to a qcow2 volume. */
export function importVolumeCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    withSourceOptions(
      new Command('volume').description(
        'convert one disk image to a qcow2 volume (ImportVolume): inspected, converted, kept in the import folder; follows the task to its end',
      ),
    ),
    'vmkit import volume data.vmdk',
  );
  return defineAction(command, io, async (ctx, source: string, opts: ConversionFlags) => {
    const image = await diskOf(ctx, source, opts.format);
    const task = await runConversion(ctx, opts, async (service) => {
      const { conversionTaskId } = await service.importVolume({ image, description: source });
      return conversionTaskId;
    });
    if (ctx.json) return ctx.printJson(task);
    ctx.print(
      `${task.conversionTaskId} completed: volume ${task.volumeId} (qcow2 ${task.snapshotDetails[0]?.outputPath ?? '?'})`,
    );
  });
}

/**
 * `vmkit import instance SOURCE`: AWS's ImportInstance, the disk made an image, registered with
 * the compute service, and one node launched from it.
 */
export function importInstanceCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    withSourceOptions(
      new Command('instance').description(
        'import a disk image and launch one node from it (ImportInstance): the image becomes a master of the compute service; follows the task to its end',
      ),
    )
      .option('--os <family/version/arch>', 'the guest OS (default: of the --platform family)', osOption)
      .option('--platform <platform>', "AWS's platform: Linux or Windows (default Linux)", (text: string) => {
        if (text !== 'Linux' && text !== 'Windows') throw new Error('must be Linux or Windows');
        return text;
      })
      .option('-t, --instance-type <profile>', 'hardware profile (default: the smallest that fits)')
      .option('-g, --group <group>', 'group of the node (default import)'),
    'vmkit import instance appliance.vmdk --group appliance',
  );
  return defineAction(command, io, async (ctx, source: string, opts: InstanceFlags) => {
    const disk = await diskOf(ctx, source, opts.format);
    const task = await runConversion(ctx, { ...opts, register: true }, async (service) => {
      const { conversionTaskId } = await service.importInstance({
        diskImages: [disk],
        description: source,
        ...(opts.platform ? { platform: opts.platform } : opts.os ? {} : { platform: 'Linux' as const }),
        ...(opts.os ? { os: opts.os } : {}),
        launchSpecification: {
          ...(opts.instanceType ? { instanceType: opts.instanceType } : {}),
          ...(opts.group ? { group: opts.group } : {}),
        },
      });
      return conversionTaskId;
    });
    if (ctx.json) return ctx.printJson(task);
    ctx.print(`${task.conversionTaskId} completed: image ${task.imageId}, node ${task.instanceId}`);
  });
}
