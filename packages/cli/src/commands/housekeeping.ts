import { Command, InvalidArgumentError } from 'commander';
import { formatBytes, formatTable, parseDuration } from '../output/format.js';
import type { CliIo } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';

/** `vmkit prune`: removes masters no node uses and leftovers of crashed builds. */
export function pruneCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('prune')
      .description('remove masters no node uses (and their records) and leftovers of crashed builds')
      .option('--dry-run', 'only list what would be removed')
      .option(
        '--unused-for <duration>',
        'keep masters built and leftovers made more recently (e.g. 90s, 12h, 7d)',
        (text) => {
          const ms = parseDuration(text);
          if (ms === undefined)
            throw new InvalidArgumentError('must be a duration such as 500ms, 90s, 30m, 12h or 7d');
          return ms;
        },
      ),
    'vmkit prune --dry-run --unused-for 7d',
  );
  return defineAction(command, io, async (ctx, opts: { dryRun?: boolean; unusedFor?: number }) => {
    const result = await ctx.withService((service, signal, provider) => {
      if (!provider.listArtefacts || !provider.removeArtefact)
        ctx.note(
          `vmkit prune: provider ${provider.name} cannot list leftovers of crashed builds: only unused masters and their records are pruned`,
        );
      return service.pruneImages({
        dryRun: opts.dryRun === true,
        ...(opts.unusedFor !== undefined ? { unusedFor: opts.unusedFor } : {}),
        signal,
      });
    });
    if (ctx.json) return ctx.printJson(result);
    const verb = result.dryRun ? 'would remove' : 'removed';
    for (const r of result.removed) {
      ctx.print(`${verb} ${r.kind} ${r.id}${r.bytes ? ` (${formatBytes(r.bytes.allocatedBytes)})` : ''}`);
    }
    for (const k of result.kept) ctx.print(`kept ${k.kind} ${k.id}: ${k.reason}`);
    for (const f of result.failed) ctx.note(`failed ${f.kind} ${f.id}: ${f.error}`);
    if (result.removed.length === 0 && result.failed.length === 0) ctx.print('nothing to remove');
    if (result.failed.length > 0) process.exitCode = 5;
  });
}

/** `vmkit reap`: removes ephemeral nodes whose owner process is gone. */
export function reapCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('reap')
      .description(
        'remove ephemeral nodes (up --ephemeral, createNodesInGroup ephemeral: true) whose owner process is gone, with their disks and ports',
      )
      .option('--dry-run', 'only list what would be removed'),
    'vmkit reap --dry-run',
  );
  return defineAction(command, io, async (ctx, opts: { dryRun?: boolean }) => {
    const result = await ctx.withService((service, signal) =>
      service.reapNodes({ dryRun: opts.dryRun === true, signal }),
    );
    if (ctx.json) return ctx.printJson(result);
    const verb = result.dryRun ? 'would remove' : 'removed';
    for (const n of result.removed) ctx.print(`${verb} node ${n.name}`);
    for (const f of result.failed) ctx.note(`failed node ${f.name}: ${f.error}`);
    if (result.removed.length === 0 && result.failed.length === 0) ctx.print('nothing to reap');
    if (result.failed.length > 0) process.exitCode = 5;
  });
}

/** `vmkit df`: space taken by masters, nodes and leftovers. */
export function dfCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('df').description(
      'show the disk space masters, nodes and leftovers of builds take (allocated and virtual)',
    ),
    'vmkit df --json | jq .total.allocatedBytes',
  );
  return defineAction(command, io, async (ctx) => {
    const report = await ctx.withService(
      (service) => service.diskUsage().catch((error: unknown) => inCommand('df', error)),
      { readOnly: true },
    );
    if (ctx.json) return ctx.printJson(report);
    const size = (b: { allocatedBytes: number; virtualBytes: number }) => [
      formatBytes(b.allocatedBytes),
      formatBytes(b.virtualBytes),
    ];
    ctx.print(
      formatTable([
        ['TYPE', 'NAME', 'IMAGE', 'ALLOCATED', 'VIRTUAL'],
        ...report.masters.map((m) => [
          m.role === 'current' ? 'master' : 'retired',
          m.master,
          m.imageId,
          ...size(m),
        ]),
        ...report.nodes.map((n) => ['node', n.name, n.imageId, ...size(n)]),
        ...report.leftovers.map((l) => ['leftover', l.id, '-', ...size(l)]),
        ['total', '', '', ...size(report.total)],
      ]),
    );
  });
}

/**
 * What a provider cannot do (`UNSUPPORTED`, naming the provider) told as the command's failure:
 * `df: provider virtualbox cannot measure disks (no masterDiskUsage)`.
 */
async function inCommand(command: string, error: unknown): Promise<never> {
  const { VmkitError } = await import('@vmkit/core');
  if (!VmkitError.is(error, 'UNSUPPORTED')) throw error;
  throw new VmkitError('UNSUPPORTED', `${command}: ${error.message}`, {
    details: { ...error.details, command },
    cause: error,
  });
}
