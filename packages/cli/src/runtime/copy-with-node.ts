import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Writable } from 'node:stream';
import type { ComputeService, CopyResult, GuestTransportKind } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core/spi';
import type { CliIo } from './cli-io.js';
import type { CopyPlan } from './copy-ends.js';
import { findNode } from './find-node.js';
import { passedStdin } from './passed-stdin.js';

/** The flags of `vmkit cp`. */
export interface CopyFlags {
  /** `--mode`: the file mode in the guest (copies in). */
  readonly mode?: number;
  /** `--owner`: `user` or `user:group` in the guest (copies in). */
  readonly owner?: string;
  /** `--transport`: the guest agent, SSH, or `auto`. */
  readonly transport?: GuestTransportKind;
  /** `--json`: the result is printed as JSON (so it cannot share stdout with a file). */
  readonly json: boolean;
}

/** What `vmkit cp` copied, as `--json` prints it (no content, no secret). */
export interface CopyReport extends CopyResult {
  /** The source: `NODE:PATH` (the node's name), a host path, or `-`. */
  readonly source: string;
  /** The destination, the same way. */
  readonly destination: string;
}

/**
 * Runs `vmkit cp`: finds the node (running) and copies through `copyToNode` / `copyFromNode`,
 * from a host file or standard input (`-`, not a terminal) into the node, or out of it to a host
 * file (into a directory under the guest file's name) or standard output (`-`). A missing host
 * file, a terminal as `-` and `--mode`/`--owner` on a copy out are `INVALID_ARGUMENT` before
 * the node is reached.
 */
export async function copyWithNode(
  service: Pick<ComputeService, 'listNodes' | 'copyToNode' | 'copyFromNode'>,
  plan: CopyPlan,
  flags: CopyFlags,
  io: CliIo,
  signal: AbortSignal,
): Promise<CopyReport> {
  const transport = flags.transport !== undefined ? { transport: flags.transport } : {};
  if (plan.direction === 'in') {
    const stdin = plan.from.kind === 'stdio' ? passedStdin(io) : undefined;
    if (plan.from.kind === 'stdio' && stdin === undefined)
      throw invalidArgument('SRC', '- reads standard input, which is a terminal or absent: pipe the file in');
    if (plan.from.kind === 'host') await checkHostFile(plan.from.path);
    const node = await findNode(service, plan.to.node, { running: true });
    try {
      const result = await service.copyToNode(node.id, stdin?.bytes ?? hostPath(plan.from), plan.to.path, {
        signal,
        ...transport,
        ...(flags.mode !== undefined ? { mode: flags.mode } : {}),
        ...(flags.owner !== undefined ? { owner: flags.owner } : {}),
      });
      return { ...result, source: hostPath(plan.from), destination: `${node.name}:${plan.to.path}` };
    } finally {
      stdin?.release();
    }
  }
  for (const [flag, given] of [
    ['--mode', flags.mode],
    ['--owner', flags.owner],
  ] as const) {
    if (given !== undefined) throw invalidArgument(flag, 'applies to copies into a node only');
  }
  if (plan.to.kind === 'stdio' && flags.json)
    throw invalidArgument('--json', 'cannot share standard output with the file copied to -');
  const destination = plan.to.kind === 'stdio' ? '-' : await hostDestination(plan.to.path, plan.from.path);
  const node = await findNode(service, plan.from.node, { running: true });
  const result = await service.copyFromNode(
    node.id,
    plan.from.path,
    destination === '-' ? (io.stdout as unknown as Writable) : destination,
    { signal, ...transport },
  );
  return { ...result, source: `${node.name}:${plan.from.path}`, destination };
}

function hostPath(end: CopyPlan['from'] | CopyPlan['to']): string {
  return end.kind === 'host' ? end.path : '-';
}

/** A host source must be a readable regular file (exit 2 naming it otherwise, not Node's ENOENT). */
async function checkHostFile(path: string): Promise<void> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    const why =
      error.code === 'ENOENT' ? 'does not exist' : `cannot be read (${error.code ?? error.message})`;
    throw invalidArgument('SRC', `${path}: ${why}`, { path }, { cause: error });
  });
  if (!info.isFile())
    throw invalidArgument('SRC', `${path}: is not a file (vmkit cp copies one file)`, { path });
}

/** A host destination that is a directory gets the guest file's name inside it, as `cp` does. */
async function hostDestination(path: string, guestPath: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  return info?.isDirectory() ? join(path, basename(guestPath)) : path;
}
