import { VmkitError } from '@vmkit/core';
import type { LibvirtContext } from './libvirt-context.js';

/** Powers off and undefines a domain; absent is not an error. */
export async function removeDomain(ctx: LibvirtContext, name: string): Promise<void> {
  let dom: Awaited<ReturnType<typeof ctx.client.domains.lookupByName>>;
  try {
    dom = await ctx.client.domains.lookupByName(name);
  } catch (error) {
    if (VmkitError.is(error, 'NOT_FOUND')) return;
    throw error;
  }
  if (await ctx.client.domains.isActive(dom)) await ctx.client.domains.destroy(dom).catch(() => {});
  await ctx.client.domains.undefine(dom, 3).catch((error: unknown) => {
    if (!VmkitError.is(error, 'NOT_FOUND')) throw error;
  });
}
