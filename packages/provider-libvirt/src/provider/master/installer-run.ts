import { abortedError, VmkitError } from '@vmkit/core/spi';
import { DomainState } from '../../client/domain-procedures.js';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { startDomain } from '../node/domain-start.js';
import { watchDomain } from '../node/domain-watch.js';
import type { InstallSignalWatch } from './install-signal.js';

/** Options of {@link runInstallerToCompletion}. */
export interface InstallerRunOptions {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** Expected run time, for progress fractions. */
  readonly expectedMs?: number;
  readonly progress: (fraction: number, message: string) => void;
  /** What the domain is called in messages (default `installer`). */
  readonly label?: string;
  /** Run once the domain started, before the wait for its power-off (a typed boot command). */
  readonly afterStart?: (dom: DomainHandle) => Promise<void>;
  /**
   * A signal that the install finished other than the power-off (`installFinished`): once seen,
   * the guest is asked to power off (ACPI) and turned off after the provider's `installPowerOffMs`.
   */
  readonly finished?: InstallSignalWatch;
}

/**
 * Starts an installer domain and waits until the guest powers itself off (the installer's way of
 * saying it is done), or until `options.finished` saw its signal (then powers it off). The wait ends at once, with the domain destroyed, when the guest pauses on
 * an I/O error (a full pool: the `no-space` error naming the pool and its free bytes), crashes or
 * QEMU fails (see {@link watchDomain}); aborting or timing out powers it off and throws `ABORTED`
 * or `TIMEOUT`.
 */
export async function runInstallerToCompletion(
  ctx: LibvirtContext,
  dom: DomainHandle,
  options: InstallerRunOptions,
): Promise<number> {
  const started = Date.now();
  const expected = options.expectedMs ?? 15_000;
  const what = options.label ?? 'installer';
  const label = `${what} ${dom.name}`;
  try {
    // Inside the try: a start that fails still stops the signal's watch (its port probe) below.
    await startDomain(ctx.client, dom);
    // Where the daemon's start ends (the guest runs from here): a mark for timing the start.
    options.progress(0, `${what} started`);
    await options.afterStart?.(dom);
    await watchDomain(ctx, dom, {
      label,
      expect: 'poweroff',
      signal: options.signal,
      done: ({ state }) => state === DomainState.SHUTOFF || options.finished?.seen === true,
      turn: () => {
        if (options.signal.aborted) throw abortedError(options.signal, label);
        const elapsed = Date.now() - started;
        if (elapsed > options.timeoutMs)
          throw new VmkitError('TIMEOUT', `${label} still running after ${options.timeoutMs} ms`);
        options.progress(
          Math.min(0.95, elapsed / expected),
          `${what} running ${(elapsed / 1000).toFixed(1)} s`,
        );
      },
    });
    if (options.finished?.seen) await powerOffSignalled(ctx, dom, label, options);
    return Date.now() - started;
  } catch (error) {
    // A paused, crashed or overdue domain holds its disks: power it off now.
    await ctx.client.domains.destroy(dom).catch(() => {});
    throw error;
  } finally {
    options.finished?.stop();
  }
}

/**
 * The guest said its install finished (not by powering off): asks it to power off (ACPI power
 * button) and waits up to the provider's `installPowerOffMs`, then turns it off. Progress says so.
 */
async function powerOffSignalled(
  ctx: LibvirtContext,
  dom: DomainHandle,
  label: string,
  options: InstallerRunOptions,
): Promise<void> {
  const what = options.finished?.what ?? 'signal';
  options.progress(0.95, `${options.label ?? 'installer'} finished (${what}); powering it off`);
  if ((await ctx.client.domains.getState(dom)).state === DomainState.SHUTOFF) return;
  // The power button itself (VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN): an installer runs no guest agent.
  await ctx.client.domains.shutdown(dom, 1).catch(() => {});
  const ended = await watchDomain(ctx, dom, {
    label,
    expect: 'poweroff',
    signal: options.signal,
    deadline: Date.now() + ctx.options.installPowerOffMs,
    done: ({ state }) => state === DomainState.SHUTOFF,
    turn: () => {
      if (options.signal.aborted) throw abortedError(options.signal, label);
    },
  });
  if (ended === 'deadline') await ctx.client.domains.destroy(dom);
}
