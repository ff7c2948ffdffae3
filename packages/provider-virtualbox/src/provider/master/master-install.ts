import { type BuildContext, VmkitError } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import { waitProgress } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { isSessionLost } from '../../soap/errors.js';
import { powerOff } from '../node/machine-power.js';
import { watchMachine } from '../node/machine-watch.js';
import { powerOptions, type VboxContext } from '../virtualbox-context.js';

/** A build's boot of a master machine: what it is in messages (`installer`, `post-install boot`) and the machine. */
export interface MasterBoot {
  readonly what: string;
  readonly name: string;
}

/**
 * Boots a master machine headless and waits until the guest powers itself off (the installer's
 * or the post-install script's last act): see {@link waitForPowerOff}.
 */
export async function installAndWait(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine,
  c: BuildContext,
  boot: MasterBoot,
  afterStart?: () => Promise<void>,
): Promise<void> {
  const session = await ctx.conn.borrowSession(api);
  try {
    await waitProgress(
      await machine.launchVMProcess(session, 'headless', []),
      `starting the ${boot.what}`,
      c.signal,
    );
  } finally {
    await session.unlockMachine().then(
      () => ctx.conn.returnSession(api, session),
      () => {},
    );
  }
  try {
    await afterStart?.();
  } catch (error) {
    // A boot command that fails or is aborted leaves no installer running.
    await powerOff(ctx.conn, api, machine, powerOptions(ctx, undefined, 0)).catch(() => {});
    throw error;
  }
  await waitForPowerOff(ctx, c, boot);
}

/**
 * Waits until a booted master machine's guest powers itself off, reporting progress by elapsed
 * time. A guest that pauses (a full disk: the `no-space` error), gets stuck or aborts ends the
 * wait at once (see {@link watchMachine}); on that, an abort or `installTimeoutMs` the machine is
 * powered off. The guest runs on when vboxwebsrv restarts: the wait logs on again and goes on
 * watching the machine by name (a runtime error reported while it was away is not heard; the
 * pause itself is still seen).
 */
export async function waitForPowerOff(ctx: VboxContext, c: BuildContext, boot: MasterBoot): Promise<void> {
  const { what, name } = boot;
  const started = Date.now();
  const limit = ctx.options.installTimeoutMs;
  await ctx.conn.run(
    `waiting for the ${what} of ${name}`,
    async (api) => {
      const machine = await api.vbox.findMachine(name);
      try {
        const end = await watchMachine(ctx, api, machine, {
          label: `${what} ${name}`,
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
          throw new VmkitError(
            'TIMEOUT',
            `the ${what} did not power off within installTimeoutMs (${limit} ms)`,
          );
      } catch (error) {
        if (!isSessionLost(error))
          await powerOff(ctx.conn, api, machine, powerOptions(ctx, undefined, 0)).catch(() => {});
        throw error;
      }
    },
    true,
    c.signal,
  );
}
