import { sleep } from '@vmkit/core/spi';
import { DomainState } from '../../client/domain-procedures.js';
import type { DomainHandle } from '../../client/handles.js';
import { LibvirtError, LibvirtErrorCode } from '../../errors/libvirt-error.js';
import type { LibvirtContext } from '../libvirt-context.js';

/**
 * Stops a node's domain: an ACPI shutdown, then power off once `stopGraceMs` has passed (at once
 * when the domain is paused or otherwise not running). A domain that is already off is fine.
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
      if (!(await ctx.client.domains.isActive(dom))) return;
      await sleep(200, signal);
    }
  }
  await ctx.client.domains.destroy(dom).catch((error: unknown) => {
    if (!LibvirtError.hasCode(error, LibvirtErrorCode.OPERATION_INVALID)) throw error;
  });
}
