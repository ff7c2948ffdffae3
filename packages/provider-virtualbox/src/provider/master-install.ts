import { type BuildContext, VmkitError } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import { powerOff } from './machine-power.js';
import { watchMachine } from './machine-watch.js';
import { waitProgress } from './vbox-calls.js';
import type { VboxApi } from './vbox-connection.js';
import { powerOptions, type VboxContext } from './vbox-context.js';

/**
 * Boots the installer headless and waits until the guest powers itself off (the installer's
 * last act), reporting progress by elapsed time. A guest that pauses (a full disk: the `no-space`
 * error), gets stuck or aborts ends the wait at once (see {@link watchMachine}); on that, an abort
 * or the timeout the machine is powered off.
 */
export async function installAndWait(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine,
  c: BuildContext,
  /** The boot in messages (`installer`, `post-install boot`) and the machine's name. */
  boot: { readonly what: string; readonly name: string },
): Promise<void> {
  const { what } = boot;
  const session = await ctx.conn.borrowSession(api);
  try {
    await waitProgress(
      await machine.launchVMProcess(session, 'headless', []),
      'starting the installer',
      c.signal,
    );
  } finally {
    await session.unlockMachine().then(
      () => ctx.conn.returnSession(api, session),
      () => {},
    );
  }
  const started = Date.now();
  const limit = ctx.options.installTimeoutMs;
  try {
    const end = await watchMachine(ctx, api, machine, {
      label: `${what} ${boot.name}`,
      expect: 'poweroff',
      done: (state) => state === 'PoweredOff',
      deadline: started + limit,
      ...(c.signal ? { signal: c.signal } : {}),
      turn: (state) => {
        const elapsed = Date.now() - started;
        c.progress(0.3 + 0.6 * Math.min(1, elapsed / Math.max(limit, 1)), `${what} running (${state})`);
      },
    });
    if (end === 'deadline')
      throw new VmkitError('TIMEOUT', `the ${what} did not power off within installTimeoutMs (${limit} ms)`);
  } catch (error) {
    await powerOff(ctx.conn, api, machine, powerOptions(ctx, undefined, 0)).catch(() => {});
    throw error;
  }
}
