import { VmkitError } from '@vmkit/core/spi';
import { DomainUndefineFlags } from '../../client/domain-procedures.js';
import { LibvirtError, LibvirtErrorCode } from '../../errors/libvirt-error.js';
import type { LibvirtContext } from '../libvirt-context.js';

/**
 * Removes a domain and the volumes it owns; absent is not an error. The order makes a failed
 * run safe to repeat: power off (a domain that is not running is fine; any other failure stops
 * here), delete the volumes, and undefine last, so a retry still finds the domain and its list
 * of volumes.
 */
export async function removeDomain(
  ctx: Pick<LibvirtContext, 'client' | 'storage'>,
  name: string,
  volumes: readonly string[] = [],
): Promise<void> {
  let dom: Awaited<ReturnType<typeof ctx.client.domains.lookupByName>>;
  try {
    dom = await ctx.client.domains.lookupByName(name);
  } catch (error) {
    if (VmkitError.is(error, 'NOT_FOUND')) return;
    throw error;
  }
  if (await ctx.client.domains.isActive(dom)) {
    await ctx.client.domains.destroy(dom).catch((error: unknown) => {
      if (!LibvirtError.hasCode(error, LibvirtErrorCode.OPERATION_INVALID)) throw error;
    });
  }
  // A console log appears in the pool only once the domain ran: the pool is refreshed to see it.
  if (volumes.some((v) => v.endsWith('-console.log'))) await ctx.storage.refresh();
  for (const v of volumes) await ctx.storage.delete(v);
  // An EFI domain's NVRAM is a pool volume vmkit deletes itself (a node's is among `volumes`, a
  // build domain's is its master's): libvirt refuses to undefine a domain whose NVRAM file exists
  // unless told to keep or delete it, and keeping leaves the master's alone.
  const xml = await ctx.client.domains.getXmlDesc(dom).catch(() => '');
  const flags = /<nvram[\s>]/.test(xml) ? UNDEFINE_FLAGS | DomainUndefineFlags.KEEP_NVRAM : UNDEFINE_FLAGS;
  await ctx.client.domains.undefine(dom, flags).catch((error: unknown) => {
    if (!VmkitError.is(error, 'NOT_FOUND')) throw error;
  });
}

const UNDEFINE_FLAGS = DomainUndefineFlags.MANAGED_SAVE | DomainUndefineFlags.SNAPSHOTS_METADATA;
