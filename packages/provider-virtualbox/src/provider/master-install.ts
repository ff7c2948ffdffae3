import { type BuildContext, sleep, VmkitError } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import { powerOff } from './machine-power.js';
import { waitProgress } from './vbox-calls.js';
import type { VboxApi } from './vbox-connection.js';
import { powerOptions, type VboxContext } from './vbox-context.js';

/**
 * Boots the installer headless and waits until the guest powers itself off (the installer's
 * last act), reporting progress by elapsed time. On abort or timeout the machine is powered off.
 */
export async function installAndWait(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine,
  c: BuildContext,
): Promise<void> {
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
    for (;;) {
      const state = String(await machine.getState());
      if (state === 'PoweredOff') return;
      if (state === 'Aborted')
        throw new VmkitError('PROVIDER', 'the installer VM aborted (crashed) before it powered off');
      const elapsed = Date.now() - started;
      if (elapsed > limit)
        throw new VmkitError(
          'TIMEOUT',
          `the installer did not power off within installTimeoutMs (${limit} ms)`,
        );
      c.progress(0.3 + 0.6 * Math.min(1, elapsed / Math.max(limit, 1)), `installer running (${state})`);
      await sleep(ctx.options.pollIntervalMs, c.signal);
    }
  } catch (error) {
    await powerOff(ctx.conn, api, machine, powerOptions(ctx, undefined, 0)).catch(() => {});
    throw error;
  }
}
