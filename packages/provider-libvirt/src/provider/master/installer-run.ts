import { abortedError, sleep, VmkitError } from '@vmkit/core/spi';
import { DomainState } from '../../client/domain-procedures.js';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtClient } from '../../client/libvirt-client.js';
import { startDomain } from '../node/domain-start.js';

/** Options of {@link runInstallerToCompletion}. */
export interface InstallerRunOptions {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** Expected run time, for progress fractions. */
  readonly expectedMs?: number;
  readonly progress: (fraction: number, message: string) => void;
  /** What the domain is called in messages (default `installer`). */
  readonly label?: string;
}

/**
 * Starts an installer domain and waits until the guest powers itself off (the installer's way of
 * saying it is done). Aborting or timing out powers it off and throws `ABORTED` or `TIMEOUT`.
 */
export async function runInstallerToCompletion(
  client: LibvirtClient,
  dom: DomainHandle,
  options: InstallerRunOptions,
): Promise<number> {
  const started = Date.now();
  await startDomain(client, dom);
  const expected = options.expectedMs ?? 15_000;
  const label = options.label ?? 'installer';
  for (;;) {
    if (options.signal.aborted) {
      await client.domains.destroy(dom).catch(() => {});
      throw abortedError(options.signal, `${label} ${dom.name}`);
    }
    const elapsed = Date.now() - started;
    if (elapsed > options.timeoutMs) {
      await client.domains.destroy(dom).catch(() => {});
      throw new VmkitError('TIMEOUT', `${label} ${dom.name} still running after ${options.timeoutMs} ms`);
    }
    const { state } = await client.domains.getState(dom);
    if (state === DomainState.SHUTOFF || state === DomainState.CRASHED) {
      if (state === DomainState.CRASHED) throw new VmkitError('PROVIDER', `${label} ${dom.name} crashed`);
      return elapsed;
    }
    options.progress(Math.min(0.95, elapsed / expected), `${label} running ${(elapsed / 1000).toFixed(1)} s`);
    await sleep(250, options.signal).catch(() => {});
  }
}
