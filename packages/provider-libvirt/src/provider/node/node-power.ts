import type { OperationOptions } from '@vmkit/core/spi';
import { emitProgress, throwIfAborted, VmkitError } from '@vmkit/core/spi';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { deleteStaleWarmDisks } from '../warm/warm-cleanup.js';
import { removeDomain } from './domain-removal.js';
import { startDomain } from './domain-start.js';
import { watchDomain } from './domain-watch.js';
import { startClassified } from './host-port-error.js';
import { lookupNode } from './node-lookup.js';
import { stopDomain } from './node-stop.js';

/** The node operations of the libvirt provider that change a domain's power state. */
export type LibvirtPowerOperation = 'start' | 'stop' | 'reboot' | 'suspend' | 'resume';

/**
 * Runs a power operation on a node's domain. A fired signal fails it with `ABORTED` before
 * anything is asked of libvirt; a graceful stop's wait for the guest ends at once when the signal
 * fires (see {@link stopDomain}). Starting a running domain is a no-op.
 */
export async function powerLibvirtNode(
  ctx: LibvirtContext,
  op: LibvirtPowerOperation,
  id: string,
  options: OperationOptions = {},
): Promise<void> {
  throwIfAborted(options.signal, `${op} of ${id}`);
  const { dom } = await lookupNode(ctx, id);
  throwIfAborted(options.signal, `${op} of ${id}`);
  const domains = ctx.client.domains;
  switch (op) {
    case 'start':
      if (!(await domains.isActive(dom))) await startClassified(() => startDomain(ctx.client, dom));
      return watchStart(ctx, dom, options.signal);
    case 'stop':
      return stopDomain(ctx, dom, options.signal);
    case 'reboot':
      return domains.reboot(dom);
    case 'suspend':
      return domains.suspend(dom);
    case 'resume':
      return domains.resume(dom);
  }
}

/**
 * Watches a started node for `startWatchMs` (at least its state once): a guest that pauses on an
 * I/O error (a full pool), crashes or stops meanwhile fails the start with that cause, powered
 * off (see {@link watchDomain}).
 */
async function watchStart(ctx: LibvirtContext, dom: DomainHandle, signal: AbortSignal | undefined) {
  const label = `node ${dom.name}`;
  try {
    await watchDomain(ctx, dom, {
      label,
      expect: 'running',
      ...(signal ? { signal } : {}),
      deadline: Date.now() + ctx.options.startWatchMs,
      done: () => false,
      turn: () => throwIfAborted(signal, `start of ${dom.name}`),
    });
  } catch (error) {
    await ctx.client.domains.destroy(dom).catch(() => {});
    throw error;
  }
}

/**
 * Removes a node's domain and every volume it owns (disk, config drive, data volumes); gone is
 * not an error. A fired signal fails it with `ABORTED` before the removal starts; once started it
 * runs to its end, so a node is never left half-removed. Reports a `destroy` event when done.
 */
export async function destroyLibvirtNode(
  ctx: LibvirtContext,
  id: string,
  options: OperationOptions = {},
): Promise<void> {
  throwIfAborted(options.signal, `destroy of ${id}`);
  let found: Awaited<ReturnType<typeof lookupNode>>;
  try {
    found = await lookupNode(ctx, id);
  } catch (error) {
    if (VmkitError.is(error, 'NOT_FOUND')) return;
    throw error;
  }
  throwIfAborted(options.signal, `destroy of ${id}`);
  await removeDomain(ctx, found.dom.name, found.meta.ext.volumes);
  // The last clone of a stale warm state takes the state's disk with it.
  if (found.meta.warm?.resumed && found.meta.master)
    await deleteStaleWarmDisks(ctx, found.meta.master).catch(() => {});
  emitProgress(options.onProgress, {
    phase: 'destroy',
    node: found.meta.name,
    fraction: 1,
    message: `domain ${found.dom.name} and ${found.meta.ext.volumes.length} volume(s) removed`,
  });
}
