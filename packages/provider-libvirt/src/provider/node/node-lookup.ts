import { VmkitError } from '@vmkit/core/spi';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { type LibvirtNodeRecord, readNodeRecord } from './node-metadata.js';

/** `VIR_DOMAIN_XML_INACTIVE`: the persistent definition, where vmkit's metadata lives. */
export const XML_INACTIVE = 2;

/** A node's domain and the metadata vmkit stored in it. */
export interface FoundNode {
  readonly dom: DomainHandle;
  readonly meta: LibvirtNodeRecord;
}

/**
 * A node's domain and metadata. Only domains carrying vmkit's metadata of kind `node` are
 * nodes: a foreign domain that merely has the prefix, one of our build domains (installer,
 * post-install boot), or one whose record breaks a rule (the rule named in the message) is
 * `NOT_FOUND` to every node operation.
 */
export async function lookupNode(ctx: LibvirtContext, id: string): Promise<FoundNode> {
  const missing = (cause?: unknown) =>
    new VmkitError('NOT_FOUND', `no libvirt node ${id}`, cause === undefined ? {} : { cause });
  if (!id.startsWith(ctx.options.namePrefix)) throw missing();
  try {
    const dom = await ctx.client.domains.lookupByName(id);
    const meta = readNodeRecord(await ctx.client.domains.getXmlDesc(dom, XML_INACTIVE));
    if (meta?.kind !== 'node') throw missing();
    return { dom, meta };
  } catch (error) {
    if (VmkitError.is(error, 'CORRUPT'))
      throw new VmkitError('NOT_FOUND', `no libvirt node ${id} (${error.message})`, {
        cause: error,
        details: error.details,
      });
    if (VmkitError.is(error, 'NOT_FOUND')) throw missing(error);
    throw error;
  }
}
