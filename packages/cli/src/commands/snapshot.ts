import type { NodeSnapshot } from '@vmkit/core';
import { Command } from 'commander';
import { formatTable } from '../output/format.js';
import type { CliIo } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';

function snapshotRows(snapshots: readonly NodeSnapshot[]): string[][] {
  return [
    ['SNAPSHOT', 'CREATED', 'MEMORY', 'CURRENT', 'DESCRIPTION'],
    ...snapshots.map((s) => [
      s.name,
      s.createdAt,
      s.memory ? 'yes' : 'no',
      s.current ? '*' : '',
      s.description ?? '',
    ]),
  ];
}

/** `vmkit snapshot [take] NODE NAME`: the default subcommand. */
function takeCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('take')
      .description(
        "take a snapshot of a node's own disk (never its master's); --memory saves a running node's memory too, so a revert resumes it where it was",
      )
      .argument('<node>', 'node id or name')
      .argument('<name>', "snapshot name: 1-64 letters, digits, '.', '_' or '-'")
      .option('-m, --memory', "save the running node's memory (libvirt needs it for a running node)")
      .option('-d, --description <text>', 'a description kept with the snapshot'),
    'vmkit snapshot web-1a2b before-upgrade --memory --description "before the upgrade"',
  );
  return defineAction(
    command,
    io,
    async (ctx, target: string, name: string, opts: { memory?: boolean; description?: string }) => {
      const { findNode } = await import('../runtime/find-node.js');
      const view = await ctx.progress();
      const { node, snapshot } = await ctx
        .withService(async (service, signal) => {
          const node = await findNode(service, target);
          const snapshot = await service.snapshotNode(node.id, name, {
            ...(opts.memory ? { memory: true } : {}),
            ...(opts.description !== undefined ? { description: opts.description } : {}),
            signal,
            onProgress: view.listener,
          });
          return { node, snapshot };
        })
        .finally(() => view.stop());
      if (ctx.json) ctx.printJson(snapshot);
      else
        ctx.print(
          `snapshot ${snapshot.name} of ${node.name} taken${snapshot.memory ? ' with its memory' : ''}`,
        );
    },
  );
}

function lsSnapshotsCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('ls')
      .description("list a node's snapshots, oldest first; the current one is marked *")
      .argument('<node>', 'node id or name'),
    'vmkit snapshot ls web-1a2b --json',
  );
  return defineAction(command, io, async (ctx, target: string) => {
    const { findNode } = await import('../runtime/find-node.js');
    const snapshots = await ctx.withService(
      async (service) => service.listNodeSnapshots((await findNode(service, target)).id),
      { readOnly: true },
    );
    if (ctx.json) ctx.printJson(snapshots);
    else ctx.print(snapshots.length === 0 ? 'no snapshots' : formatTable(snapshotRows(snapshots)));
  });
}

function revertCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('revert')
      .description(
        'put a node back to a snapshot: its disk, and with a memory snapshot its memory (it runs again where it was; else it ends stopped)',
      )
      .argument('<node>', 'node id or name')
      .argument('<name>', 'snapshot name'),
    'vmkit snapshot revert web-1a2b before-upgrade',
  );
  return defineAction(command, io, async (ctx, target: string, name: string) => {
    const { findNode } = await import('../runtime/find-node.js');
    const node = await ctx.withService(async (service, signal) => {
      const node = await findNode(service, target);
      await service.revertNode(node.id, name, { signal });
      return (await service.getNode(node.id)) ?? node;
    });
    if (ctx.json) ctx.printJson({ node: node.name, snapshot: name, status: node.status });
    else ctx.print(`${node.name} reverted to ${name} (${node.status})`);
  });
}

function rmCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('rm')
      .description("delete one of a node's snapshots; the node and its other snapshots stay")
      .argument('<node>', 'node id or name')
      .argument('<name>', 'snapshot name'),
    'vmkit snapshot rm web-1a2b before-upgrade',
  );
  return defineAction(command, io, async (ctx, target: string, name: string) => {
    const { findNode } = await import('../runtime/find-node.js');
    const node = await ctx.withService(async (service) => {
      const node = await findNode(service, target);
      await service.deleteNodeSnapshot(node.id, name);
      return node;
    });
    if (ctx.json) ctx.printJson({ node: node.name, snapshot: name, deleted: true });
    else ctx.print(`snapshot ${name} of ${node.name} deleted`);
  });
}

/**
 * `vmkit snapshot NODE NAME` (the default subcommand, `take`), `vmkit snapshot ls NODE`,
 * `vmkit snapshot revert NODE NAME` and `vmkit snapshot rm NODE NAME`. See `docs/snapshots.md`.
 */
export function snapshotCommand(io: CliIo): Command {
  return new Command('snapshot')
    .description("take, list, revert to and delete a node's snapshots (vmkit snapshot NODE NAME takes one)")
    .addCommand(takeCommand(io), { isDefault: true })
    .addCommand(lsSnapshotsCommand(io))
    .addCommand(revertCommand(io))
    .addCommand(rmCommand(io));
}
