import { raceAbort, sleep } from '@vmkit/core/spi';
import { DomainState } from '../../client/domain-procedures.js';
import type { DomainHandle } from '../../client/handles.js';
import { LibvirtError, LibvirtErrorCode } from '../../errors/libvirt-error.js';
import type { LibvirtContext } from '../libvirt-context.js';

/**
 * Stops a node's domain: an ACPI shutdown, then power off once `stopGraceMs` has passed (at once
 * when the domain is paused or otherwise not running). A domain that is already off is fine. When
 * `signal` fires during the wait it ends with `ABORTED` at once, the domain left running.
 */
export async function stopDomain(
  ctx: LibvirtContext,
  dom: DomainHandle,
  signal?: AbortSignal,
): Promise<void> {
  if (!(await ctx.client.domains.isActive(dom))) return;
  const { state } = await ctx.client.domains.getState(dom);
  if (state === DomainState.RUNNING) {
    await ctx.client.domains.shutdown(dom).catch(() => {});
    const deadline = Date.now() + ctx.options.stopGraceMs;
    while (Date.now() < deadline) {
      // The abort ends the wait at once, even in the middle of a call to the daemon.
      if (!(await raceAbort(ctx.client.domains.isActive(dom), signal, `stop of ${dom.name}`))) return;
      await sleep(200, signal);
    }
  }
  await ctx.client.domains.destroy(dom).catch((error: unknown) => {
    if (!LibvirtError.hasCode(error, LibvirtErrorCode.OPERATION_INVALID)) throw error;
  });
}
