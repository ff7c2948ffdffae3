import { Command } from 'commander';
import type { CliIo } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';

/** `vmkit image from NODE IMAGE`: a new image from a node's disk. */
function fromCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('from')
      .description(
        "make a new image from a node's disk, flattened and sealed on the copy (the node is left as it is); it lists, clones and exports like any image",
      )
      .argument('<node>', 'node id or name')
      .argument('<image>', "the new image's id: 1-63 of a-z, 0-9, '.', '_' and '-'")
      .option('-n, --name <name>', "the new image's human-readable name")
      .option(
        '--no-seal',
        'keep the copy exactly as the node had it (no clean-up of machine-id, host keys, NIC rules)',
      ),
    'vmkit image from web-1a2b web-golden --name "web, configured"',
  );
  return defineAction(
    command,
    io,
    async (ctx, target: string, imageId: string, opts: { name?: string; seal?: boolean }) => {
      const { findNode } = await import('../runtime/find-node.js');
      const view = await ctx.progress();
      const { node, image } = await ctx
        .withService(async (service, signal) => {
          const node = await findNode(service, target);
          const image = await service.createImageFromNode(node.id, {
            imageId,
            ...(opts.name !== undefined ? { name: opts.name } : {}),
            seal: opts.seal !== false,
            signal,
            onProgress: view.listener,
          });
          return { node, image };
        })
        .finally(() => view.stop());
      if (ctx.json) ctx.printJson(image);
      else
        ctx.print(
          `image ${image.id} made from ${node.name}${opts.seal === false ? ' (not sealed)' : ' (sealed)'}`,
        );
    },
  );
}

/**
 * `vmkit image rm IMAGE`: an image made by `vmkit import` is deleted with its disks, its record
 * and (registered with the compute service) its master; any other image is the compute service's
 * own (`deleteImage`). Both refuse while nodes use the image, unless `--force`.
 */
function rmCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('rm')
      .description(
        'delete an image: one made by vmkit import with its disks, record and master, or a master of the compute service; refused while nodes use it',
      )
      .argument('<image>', 'image id')
      .option('--force', 'delete even while nodes use it (the nodes are destroyed)')
      .option('--scratch <dir>', 'directory for temporary files of the import service'),
    'vmkit image rm appliance',
  );
  return defineAction(
    command,
    io,
    async (ctx, imageId: string, opts: { force?: boolean; scratch?: string }) => {
      const { openImports } = await import('../runtime/open-imports.js');
      const imports = await openImports(await ctx.settings(), {
        ...(opts.scratch ? { scratch: opts.scratch } : {}),
        register: true,
        cwd: ctx.io.cwd,
      });
      let imported = false;
      try {
        imported = (await imports.service.listImages()).some((i) => i.imageId === imageId);
        if (imported) await imports.service.deleteImportedImage(imageId, { force: opts.force === true });
      } finally {
        await imports.close();
      }
      if (!imported)
        await ctx.withService((service) => service.deleteImage(imageId, { force: opts.force === true }));
      const kind = imported ? 'imported' : 'master';
      if (ctx.json) return ctx.printJson({ imageId, deleted: true, kind });
      ctx.print(
        `deleted image ${imageId}${kind === 'imported' ? ' (imported: disks, record and master)' : ''}`,
      );
    },
  );
}

/** `vmkit image from NODE IMAGE`, `vmkit image rm IMAGE`. See `docs/images-from-nodes.md`. */
export function imageCommand(io: CliIo): Command {
  return new Command('image')
    .description(
      'make images from nodes (vmkit image from NODE IMAGE) and delete images (vmkit image rm IMAGE)',
    )
    .addCommand(fromCommand(io))
    .addCommand(rmCommand(io));
}
