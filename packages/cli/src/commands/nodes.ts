import { readFile } from 'node:fs/promises';
import type { NodeMetadata, TemplateOptions } from '@vmkit/core';
import { Command, InvalidArgumentError } from 'commander';
import { formatPorts, formatTable } from '../output/format.js';
import type { CliIo } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';

function nodeRows(nodes: readonly NodeMetadata[]): string[][] {
  return [
    ['NODE', 'GROUP', 'IMAGE', 'STATUS', 'PORTS'],
    ...nodes.map((n) => [n.name, n.group, n.imageId, n.status, formatPorts(n.network) || '-']),
  ];
}

function integer(min: number, max: number) {
  return (text: string, previous?: number[] | number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return Array.isArray(previous) ? [...previous, n] : n;
  };
}

/** `vmkit up GROUP -n N`: clones N running nodes (building the master first if needed). */
export function upCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('up')
      .description(
        'create N running nodes in a group, building the master first if needed; prints each node with its forwarded ports',
      )
      .argument('<group>', 'group name (a-z, 0-9, -)')
      .requiredOption('-n, --count <n>', 'how many nodes', integer(1, 1000))
      .option('-i, --image <id>', 'image to clone (default: chosen by the template: the smallest that fits)')
      .option(
        '-p, --port <port>',
        'guest TCP port to forward from a free host port (repeatable)',
        integer(1, 65535),
        [],
      )
      .option('--user-data <file>', 'user data for cloud-init, put on a NoCloud config drive')
      .option(
        '--ephemeral',
        'keep the nodes only while this command runs: it waits until Ctrl-C or SIGTERM, then destroys them; if it is killed, the next vmkit command reaps them',
      ),
    'vmkit up web -n 3 --image debian-12 --port 80 --user-data cloud-config.yaml',
  );
  return defineAction(
    command,
    io,
    async (
      ctx,
      group: string,
      opts: { count: number; image?: string; port: number[]; userData?: string; ephemeral?: boolean },
    ) => {
      const options: TemplateOptions = {
        ...(opts.ephemeral ? { ephemeral: true } : {}),
        ...(opts.port.length > 0 ? { inboundPorts: opts.port } : {}),
        ...(opts.userData !== undefined ? { userData: await readFile(opts.userData, 'utf8') } : {}),
      };
      const view = await ctx.progress();
      const show = (nodes: readonly NodeMetadata[]) =>
        ctx.json ? ctx.printJson(nodes) : ctx.print(formatTable(nodeRows(nodes)));
      try {
        const nodes = await ctx.withService(async (service, signal) => {
          const template = opts.image
            ? await service.templateBuilder().imageId(opts.image).options(options).build()
            : options;
          const made = await service.createNodesInGroup(group, opts.count, template, {
            signal,
            onProgress: view.listener,
          });
          if (opts.ephemeral) {
            // The service (and its owner lease) lives until interrupted; closing it destroys the nodes.
            view.stop();
            show(made);
            await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          }
          return made;
        });
        view.stop();
        if (!opts.ephemeral) show(nodes);
      } catch (error) {
        // Some nodes failed (and were rolled back): the ones that run are still printed, each
        // failure goes to stderr, and the exit code says what kind of failure it was.
        const partial = error as {
          name?: string;
          nodes?: NodeMetadata[];
          errors?: Array<{ name: string; error: Error }>;
        };
        if (partial.name === 'RunNodesError' && partial.nodes && partial.errors) {
          view.stop();
          if (partial.nodes.length > 0) show(partial.nodes);
          for (const f of partial.errors) ctx.note(`node ${f.name} failed: ${f.error.message}`);
        }
        throw error;
      } finally {
        view.stop();
      }
    },
  );
}

/** `vmkit ls`: every node. */
export function lsCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('ls')
      .description('list nodes with their status and forwarded ports')
      .option('-g, --group <group>', 'only this group'),
    'vmkit ls --group web --json',
  );
  return defineAction(command, io, async (ctx, opts: { group?: string }) => {
    const all = await ctx.withService((service) => service.listNodes());
    const nodes = all.filter((n) => opts.group === undefined || n.group === opts.group);
    if (ctx.json) ctx.printJson(nodes);
    else ctx.print(nodes.length === 0 ? 'no nodes' : formatTable(nodeRows(nodes)));
  });
}

/** `vmkit destroy GROUP|NODE...`: destroys nodes by name or id, or whole groups. */
export function destroyCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('destroy')
      .description('destroy nodes (by name or id) or every node of a group, with their disks and port leases')
      .argument('<target...>', 'node names or ids, or group names'),
    'vmkit destroy web db-1a2b',
  );
  return defineAction(command, io, async (ctx, targets: string[]) => {
    const { VmkitError } = await import('@vmkit/core');
    const destroyed = await ctx.withService(async (service, signal) => {
      const nodes = await service.listNodes();
      const wanted = new Set(targets);
      const unknown = targets.filter((t) => !nodes.some((n) => n.id === t || n.name === t || n.group === t));
      if (unknown.length > 0) {
        throw new VmkitError('NOT_FOUND', `no node or group named ${unknown.join(', ')}`, {
          details: { targets: unknown },
        });
      }
      // Ctrl-C stops removals that have not begun; those done stay done.
      return service.destroyNodesMatching(
        (n) => wanted.has(n.id) || wanted.has(n.name) || wanted.has(n.group),
        { signal },
      );
    });
    if (ctx.json) ctx.printJson(destroyed.map((n) => ({ id: n.id, name: n.name, group: n.group })));
    else for (const n of destroyed) ctx.print(`destroyed ${n.name}`);
  });
}
