import { randomBytes } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import type { ImportImageTask } from '@vmkit/import';
import { Command } from 'commander';
import type { GlobalFlags } from '../config/settings.js';
import type { CliIo, CommandContext } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';
import {
  BOX_PROVIDERS,
  EXPORT_FORMATS,
  formatFromName,
  formatOption,
  IMPORT_FORMATS,
  isUrl,
  type OsFlag,
  osOption,
} from './import-args.js';
import { importInstanceCommand, importVolumeCommand } from './import-conversions.js';
import { importCancelCommand, importStatusCommand } from './import-tasks.js';

/** Options of `vmkit import` as commander parses them. */
interface ImportFlags {
  readonly format?: string;
  readonly boxProvider?: 'libvirt' | 'virtualbox';
  readonly imageId?: string;
  readonly os?: OsFlag;
  readonly scratch?: string;
  readonly wait?: boolean;
}

/** The global flags again, for the `vmkit` that runs an import in the background. */
function globalArgs(flags: GlobalFlags): string[] {
  const names: Array<[keyof GlobalFlags, string]> = [
    ['config', '--config'],
    ['uri', '--uri'],
    ['pool', '--pool'],
    ['prefix', '--prefix'],
    ['store', '--store'],
    ['s3Bucket', '--s3-bucket'],
    ['s3Endpoint', '--s3-endpoint'],
  ];
  const valued = names.flatMap(([key, flag]) => (flags[key] !== undefined ? [flag, String(flags[key])] : []));
  return flags.allowUriPrograms === true ? [...valued, '--allow-uri-programs'] : valued;
}

/** The source's format: `--format`, else its name's extension, else (a local file) its headers. */
async function sourceFormat(source: string, flag: string | undefined): Promise<string> {
  const named = flag ?? formatFromName(source);
  if (named) return named;
  const { invalidArgument } = await import('@vmkit/core/spi');
  if (isUrl(source)) throw invalidArgument('--format', `is needed: the URL ${source} does not name a format`);
  const { inspectImage } = await import('@vmkit/imaging');
  const found = (await inspectImage(source)).format;
  const format = found === 'iso' || found === 'gpt' ? 'raw' : found;
  if (!(IMPORT_FORMATS as readonly string[]).includes(format))
    throw invalidArgument('--format', `${source} is ${found}, which vmkit import does not take`);
  return format;
}

/** `vmkit import FILE|URL`: an AWS-style import task converting a disk into an image. */
export function importCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('import')
      .description(
        'import a disk image (vmdk, vhd, vhdx, vdi, qcow2, raw, an OVA or a Vagrant box; a file or an http(s) URL) as an image: inspected, converted to qcow2; prints the task id, or with --wait follows it to the end',
      )
      .argument('<source>', 'a disk image file or an http(s) URL')
      .option(
        '-f, --format <format>',
        `the source's format (${IMPORT_FORMATS.join(', ')}); default: from its name or headers`,
        formatOption(IMPORT_FORMATS),
      )
      .option(
        '--box-provider <provider>',
        `for a Vagrant box: the provider its metadata.json must name (${BOX_PROVIDERS.join(', ')})`,
        formatOption(BOX_PROVIDERS),
      )
      .option('--image-id <id>', 'id of the image to create (default ami-… from the task id)')
      .option(
        '--os <family/version/arch>',
        'the guest OS; given, the image also becomes a master of the compute service (libvirt)',
        osOption,
      )
      .option('--scratch <dir>', 'directory for temporary files (default <store>/.import/scratch)')
      .option('-w, --wait', 'show progress until the task ends and exit by its outcome'),
    'vmkit import appliance.vmdk --image-id appliance --wait',
  );
  command
    .addCommand(importStatusCommand(io))
    .addCommand(importCancelCommand(io))
    .addCommand(importVolumeCommand(io))
    .addCommand(importInstanceCommand(io));
  return defineAction(command, io, async (ctx, source: string, opts: ImportFlags) => {
    const where = isUrl(source) ? source : resolve(ctx.io.cwd, source);
    const format = await sourceFormat(where, opts.format);
    const { DETACHED_ENV } = await import('../runtime/detach.js');
    if (opts.wait || ctx.io.env[DETACHED_ENV] === '1') return importAndWait(ctx, where, format, opts);
    const [{ importPlaces }, { runDetached }] = await Promise.all([
      import('../runtime/open-imports.js'),
      import('../runtime/detach.js'),
    ]);
    const places = importPlaces(await ctx.settings(), opts.scratch, ctx.io.cwd);
    const args = [...globalArgs(ctx.globals), 'import', where, '--format', format, '--wait', '--json'];
    if (opts.imageId) args.push('--image-id', opts.imageId);
    if (opts.boxProvider) args.push('--box-provider', opts.boxProvider);
    if (opts.os) args.push('--os', `${opts.os.family}/${opts.os.version}/${opts.os.arch}`);
    if (opts.scratch) args.push('--scratch', resolve(ctx.io.cwd, opts.scratch));
    const log = join(places.logDir, `import-${Date.now()}-${randomBytes(8).toString('hex')}.log`);
    const { message, pid } = await runDetached(args, ctx.io, log);
    if (ctx.json) return ctx.printJson({ ...message, pid, log });
    ctx.print(String(message.importTaskId));
    ctx.note(`importing in the background as image ${String(message.imageId)} (pid ${pid}); log: ${log}`);
  });
}

async function importAndWait(ctx: CommandContext, source: string, format: string, opts: ImportFlags) {
  const [{ openImports }, { followTask, assertCompleted }, { notifyParent }] = await Promise.all([
    import('../runtime/open-imports.js'),
    import('../runtime/follow-task.js'),
    import('../runtime/detach.js'),
  ]);
  const settings = await ctx.settings();
  const view = await ctx.progress();
  try {
    const task = await ctx.withSignal(async (signal) => {
      const imports = await openImports(settings, {
        ...(opts.scratch ? { scratch: opts.scratch } : {}),
        register: opts.os !== undefined,
        cwd: ctx.io.cwd,
      });
      try {
        const { service } = imports;
        const { importTaskId } = await service.importImage({
          diskContainers: [
            {
              format,
              ...(isUrl(source) ? { url: source } : { path: source }),
              ...(opts.boxProvider ? { provider: opts.boxProvider } : {}),
            },
          ],
          description: basename(source),
          ...(opts.imageId ? { imageId: opts.imageId } : {}),
          ...(opts.os ? { os: opts.os } : {}),
        });
        const imageId = opts.imageId ?? importTaskId.replace(/^import-/, '');
        notifyParent({ importTaskId, imageId });
        ctx.note(`import task ${importTaskId}: image ${imageId}`);
        const done = (await followTask(service, importTaskId, {
          signal,
          onProgress: view.listener,
        })) as ImportImageTask;
        view.stop();
        await assertCompleted(done);
        return done;
      } finally {
        await imports.close();
      }
    });
    if (ctx.json) return ctx.printJson({ ...task, registered: opts.os !== undefined });
    const disk = task.snapshotDetails[0];
    ctx.print(`${task.importTaskId} completed: image ${task.imageId} (qcow2 ${disk?.outputPath ?? '?'})`);
    ctx.print(
      opts.os
        ? `image ${task.imageId} is a master of the compute service: vmkit up GROUP -n 1 -i ${task.imageId}`
        : `not registered with the compute service (pass --os family/version/arch for that); vmkit export ${task.imageId} works`,
    );
  } finally {
    view.stop();
  }
}

/** `vmkit export IMAGE`: an imported image written as vmdk (streamOptimized), vhd, raw or qcow2. */
export function exportCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('export')
      .description(
        'write an image made by vmkit import as vmdk (streamOptimized), vhd, raw, qcow2 or a Vagrant box (libvirt or virtualbox)',
      )
      .argument('<image>', 'image id, as vmkit import printed it')
      .requiredOption(
        '-f, --format <format>',
        `output format (${EXPORT_FORMATS.join(', ')})`,
        formatOption(EXPORT_FORMATS),
      )
      .option(
        '--box-provider <provider>',
        `with --format box: the Vagrant provider (${BOX_PROVIDERS.join(', ')}; default libvirt)`,
        formatOption(BOX_PROVIDERS),
      )
      .requiredOption('-o, --output <file>', 'file to write (never overwritten)')
      .option('--scratch <dir>', 'directory for temporary files (default <store>/.import/scratch)'),
    'vmkit export appliance --format vmdk -o appliance.vmdk',
  );
  return defineAction(
    command,
    io,
    async (
      ctx,
      imageId: string,
      opts: { format: string; output: string; scratch?: string; boxProvider?: 'libvirt' | 'virtualbox' },
    ) => {
      const [{ openImports }, { followTask, assertCompleted }, { VmkitError }] = await Promise.all([
        import('../runtime/open-imports.js'),
        import('../runtime/follow-task.js'),
        import('@vmkit/core'),
      ]);
      const settings = await ctx.settings();
      const output = resolve(ctx.io.cwd, opts.output);
      const view = await ctx.progress();
      try {
        const task = await ctx.withSignal(async (signal) => {
          const imports = await openImports(settings, {
            ...(opts.scratch ? { scratch: opts.scratch } : {}),
            cwd: ctx.io.cwd,
          });
          try {
            const { service } = imports;
            if (!(await service.listImages()).some((i) => i.imageId === imageId))
              throw new VmkitError(
                'NOT_FOUND',
                `image ${imageId} was not made by vmkit import: export works on imported images only (masters built by the compute service cannot be exported yet)`,
                { details: { imageId } },
              );
            const { exportImageTaskId } = await service.exportImage({
              imageId,
              diskImageFormat: opts.format as 'raw',
              ...(opts.boxProvider ? { boxProvider: opts.boxProvider } : {}),
              destination: { path: output },
            });
            const done = await followTask(service, exportImageTaskId, { signal, onProgress: view.listener });
            view.stop();
            await assertCompleted(done);
            return done;
          } finally {
            await imports.close();
          }
        });
        if (ctx.json) return ctx.printJson(task);
        const kind = opts.format === 'box' ? `${opts.boxProvider ?? 'libvirt'} box` : opts.format;
        ctx.print(`wrote ${output} (${kind}, image ${imageId})`);
      } finally {
        view.stop();
      }
    },
  );
}
