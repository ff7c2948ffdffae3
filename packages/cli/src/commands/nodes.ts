import type { ComputeService, Firmware, NodeMetadata, SharedFolder, TemplateOptions } from '@vmkit/core';
import { Command, InvalidArgumentError } from 'commander';
import { formatPorts, formatTable, parseDuration } from '../output/format.js';
import { formatAddresses, nodeJson } from '../output/node-view.js';
import type { CliIo, CommandContext } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';
import { type IpFlag, parseIpFlag, withIpNics } from './ip-flag.js';
import { type PortFlag, parsePortFlag, portOptions } from './port-flag.js';
import { parseShareFlag } from './share-flag.js';
import { parseWaitFlag, type WaitFor } from './wait-flag.js';

/** How long `up --wait` waits by default. */
const DEFAULT_WAIT_MS = 5 * 60_000;

function nodeRows(nodes: readonly NodeMetadata[]): string[][] {
  return [
    ['NODE', 'GROUP', 'IMAGE', 'STATUS', 'ADDRESSES', 'PORTS'],
    ...nodes.map((n) => [
      n.name,
      n.group,
      n.imageId,
      n.status,
      formatAddresses(n),
      formatPorts(n.network) || '-',
    ]),
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

/** `--firmware`: `bios` or `efi`. */
function parseFirmwareFlag(text: string): Firmware {
  if (text !== 'bios' && text !== 'efi') throw new InvalidArgumentError("must be 'bios' or 'efi'");
  return text;
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
        '-p, --port <[host:]guest[/tcp|udp]>',
        'forward a guest port from a free host port (80, 53/udp) or from a given one (8080:80); repeatable',
        parsePortFlag,
        [],
      )
      .option(
        '--ip <network=address|pool[,gateway=IP][,dns=IP+IP]>',
        'add a host-only NIC on a network with a static address (192.168.50.10/24, one node) or a pool each node gets its own address from (192.168.50.10-192.168.50.19/24; IPv6 too: fd00::10-fd00::1f/64), written in the config drive; repeatable',
        parseIpFlag,
        [],
      )
      .option('--user-data <file>', 'user data for cloud-init, put on a NoCloud config drive')
      .option(
        '--firmware <bios|efi>',
        "the firmware the nodes boot with; it must be the image's own (hardware.firmware of its spec, default bios): a disk installed for one does not boot under the other",
        parseFirmwareFlag,
      )
      .option(
        '--share <host:guest[:ro]>',
        "share a host directory with the nodes, mounted at the guest's absolute path at every boot by the config drive (cloud-init); :ro mounts it read-only; repeatable",
        parseShareFlag,
        [],
      )
      .option(
        '--wait [what]',
        'return only once the nodes answer: port (each TCP forward keeps a connection; the default), http:/PATH (a GET answers 2xx/3xx), ssh (sshd greets on the forward of port 22) or agent (the guest agent answers; no forward needed)',
        parseWaitFlag,
      )
      .option('--wait-timeout <duration>', 'give up waiting after this long, exit 7 (default 5m)', (text) => {
        const ms = parseDuration(text);
        if (ms === undefined || ms <= 0)
          throw new InvalidArgumentError('must be a duration such as 90s, 5m or 1h');
        return ms;
      })
      .option(
        '--warm',
        "resume each node from the image's saved running template instead of booting it (the image's spec needs warm; see docs/warm-clones.md)",
      )
      .option(
        '--ephemeral',
        'keep the nodes only while this command runs: it waits until Ctrl-C or SIGTERM, then destroys them; if it is killed, the next vmkit command reaps them',
      ),
    'vmkit up web -n 1 --image debian-12 -p 8080:80 --wait=http:/ --user-data cloud-config.yaml',
  );
  return defineAction(
    command,
    io,
    async (
      ctx,
      group: string,
      opts: {
        count: number;
        image?: string;
        port: PortFlag[];
        ip: IpFlag[];
        userData?: string;
        firmware?: Firmware;
        share: SharedFolder[];
        wait?: WaitFor | true;
        waitTimeout?: number;
        ephemeral?: boolean;
        warm?: boolean;
      },
    ) => {
      const [{ readInputFile }, { assertSourcePresent }, { invalidArgument }] = await Promise.all([
        import('../runtime/input-file.js'),
        import('../config/source-paths.js'),
        import('@vmkit/core/spi'),
      ]);
      const wait: WaitFor | undefined = opts.wait === true ? { kind: 'port' } : opts.wait;
      if (opts.waitTimeout !== undefined && wait === undefined)
        throw invalidArgument('--wait-timeout', 'needs --wait');
      if (wait?.kind === 'ssh' && !opts.port.some((p) => p.protocol === 'tcp' && p.guestPort === 22))
        throw invalidArgument('--wait', 'ssh needs a forward of guest port 22 to check (add -p 22)');
      if (wait && wait.kind !== 'agent' && opts.port.every((p) => p.protocol !== 'tcp'))
        throw invalidArgument('--wait', 'needs a TCP port forward to check (add -p PORT)');
      const settings = await ctx.settings();
      const timeoutMs = opts.waitTimeout ?? DEFAULT_WAIT_MS;
      const options: TemplateOptions = {
        ...(opts.ephemeral ? { ephemeral: true } : {}),
        ...withIpNics(portOptions(opts.port, opts.count, invalidArgument), opts.ip),
        ...(opts.firmware ? { hardware: { firmware: opts.firmware } } : {}),
        ...(opts.share.length > 0 ? { sharedFolders: opts.share } : {}),
        ...(opts.userData !== undefined
          ? { userData: (await readInputFile('--user-data', opts.userData)).toString('utf8') }
          : {}),
      };
      const view = await ctx.progress();
      const show = (nodes: readonly NodeMetadata[]) =>
        ctx.json ? ctx.printJson(nodes.map(nodeJson)) : ctx.print(formatTable(nodeRows(nodes)));
      try {
        const nodes = await ctx.withService(async (service, signal) => {
          const builder = service.templateBuilder().options(options);
          const template = await (opts.image ? builder.imageId(opts.image) : builder).build();
          // The image chosen (by -i or the template) must not name a missing source file.
          assertSourcePresent(settings, template.image.id);
          const made = await service.createNodesInGroup(group, opts.count, template, {
            signal,
            onProgress: view.listener,
            ...(opts.warm ? { warm: true } : {}),
          });
          // An ephemeral node lives only with the service, and the guest agent is reached
          // through it: those waits run while it is open, the others after it closed.
          if (wait && (wait.kind === 'agent' || opts.ephemeral)) {
            view.stop();
            await waitUntilAnswering(ctx, made, wait, timeoutMs, signal, service);
          }
          if (opts.ephemeral) {
            // The service (and its owner lease) lives until interrupted; closing it destroys the nodes.
            view.stop();
            show(made);
            await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          }
          return made;
        });
        view.stop();
        if (!opts.ephemeral) {
          if (wait && wait.kind !== 'agent')
            await ctx.withSignal((signal) => waitUntilAnswering(ctx, nodes, wait, timeoutMs, signal));
          show(nodes);
        }
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

/**
 * Waits for `up --wait`; nodes that do not answer in time are `TIMEOUT` (they stay: destroy them).
 * `agent` waits through the service's `waitForNode`, so it needs `service`.
 */
async function waitUntilAnswering(
  ctx: CommandContext,
  nodes: readonly NodeMetadata[],
  wait: WaitFor,
  timeoutMs: number,
  signal: AbortSignal,
  service?: Pick<ComputeService, 'waitForNode'>,
): Promise<void> {
  const [{ unwaitable, waitForNodes, waitForAgents }, { invalidArgument, VmkitError }] = await Promise.all([
    import('../runtime/wait-for-nodes.js'),
    import('@vmkit/core/spi'),
  ]);
  for (const node of nodes) {
    const why = unwaitable(node, wait);
    if (why) throw invalidArgument('--wait', why);
  }
  const what =
    wait.kind === 'http'
      ? `GET ${wait.path}`
      : wait.kind === 'agent'
        ? 'through the guest agent'
        : 'its ports';
  ctx.note(`waiting for ${nodes.length} node(s) to answer ${what}`);
  const deadline = Date.now() + timeoutMs;
  const late =
    wait.kind === 'agent' && service
      ? await waitForAgents(service, nodes, deadline, signal)
      : await waitForNodes(nodes, wait, deadline, signal);
  if (late.length === 0) return;
  throw new VmkitError(
    'TIMEOUT',
    `--wait: ${late.join(', ')} did not answer ${what} within ${Math.round(timeoutMs / 1000)}s (the nodes run: vmkit destroy them, or raise --wait-timeout)`,
    { details: { field: '--wait', nodes: late } },
  );
}

/** `vmkit ls`: every node. */
export function lsCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('ls')
      .description(
        'list nodes with their status, addresses (as the guest or the hypervisor reports them) and forwarded ports; --json adds the addresses of each NIC',
      )
      .option('-g, --group <group>', 'only this group'),
    'vmkit ls --group web --json',
  );
  return defineAction(command, io, async (ctx, opts: { group?: string }) => {
    const all = await ctx.withService((service) => service.listNodes(), { readOnly: true });
    const nodes = all.filter((n) => opts.group === undefined || n.group === opts.group);
    if (ctx.json) ctx.printJson(nodes.map(nodeJson));
    else ctx.print(nodes.length === 0 ? 'no nodes' : formatTable(nodeRows(nodes)));
  });
}

/** `vmkit destroy GROUP|NODE...`: destroys nodes by name or id, or whole groups. */
export function destroyCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('destroy')
      .description('destroy nodes (by name or id) or every node of a group, with their disks and port leases')
      .argument('<target...>', 'node names or ids, or group names')
      .option('--if-exists', 'a target that names nothing (already destroyed) is not an error'),
    'vmkit destroy web db-1a2b --if-exists --json',
  );
  return defineAction(command, io, async (ctx, targets: string[], opts: { ifExists?: boolean }) => {
    const { VmkitError } = await import('@vmkit/core');
    const missingStore = await ctx.missingStore();
    const destroyed = missingStore
      ? []
      : await ctx.withService(async (service, signal) => {
          const nodes = await service.listNodes();
          const wanted = new Set(targets);
          const unknown = targets.filter(
            (t) => !nodes.some((n) => n.id === t || n.name === t || n.group === t),
          );
          if (unknown.length > 0 && opts.ifExists !== true) throw notFound(VmkitError, unknown);
          // Ctrl-C stops removals that have not begun; those done stay done.
          return service.destroyNodesMatching(
            (n) => wanted.has(n.id) || wanted.has(n.name) || wanted.has(n.group),
            { signal },
          );
        });
    if (missingStore && opts.ifExists !== true) throw notFound(VmkitError, targets);
    if (ctx.json) ctx.printJson(destroyed.map((n) => ({ id: n.id, name: n.name, group: n.group })));
    else if (destroyed.length === 0) ctx.print('nothing to destroy');
    else for (const n of destroyed) ctx.print(`destroyed ${n.name}`);
  });
}

function notFound(errors: typeof import('@vmkit/core').VmkitError, targets: readonly string[]): Error {
  return new errors(
    'NOT_FOUND',
    `no node or group named ${targets.join(', ')} (--if-exists makes that not an error)`,
    { details: { targets } },
  );
}
