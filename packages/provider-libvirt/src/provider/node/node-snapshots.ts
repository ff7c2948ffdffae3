import type { NodeSnapshot, OperationOptions, SnapshotCapabilities, SnapshotRequest } from '@vmkit/core/spi';
import { throwIfAborted, VmkitError } from '@vmkit/core/spi';
import type { DomainHandle } from '../../client/handles.js';
import { type DomainSnapshotHandle, SnapshotListFlags } from '../../client/snapshot-procedures.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { parseXml, xmlEscape } from '../xml/xml-text.js';
import { lookupNode, XML_INACTIVE } from './node-lookup.js';

/**
 * What libvirt 9.0's QEMU driver snapshots: internal qcow2 snapshots of the node's own overlay
 * (the master behind it is a read-only backing file, never written). A running node's internal
 * snapshot must hold its memory (`savevm`); reverting a running node restarts its QEMU; a
 * writable raw disk (a data volume) makes every internal snapshot fail.
 */
export const LIBVIRT_SNAPSHOT_CAPABILITIES: SnapshotCapabilities = Object.freeze({
  stopped: true,
  runningWithMemory: true,
  runningDiskOnly: false,
  revertRunning: true,
  dataVolumes: false,
});

interface XmlDisk {
  '@device'?: string;
  driver?: { '@type'?: string };
  source?: { '@volume'?: string; '@file'?: string };
  target?: { '@dev'?: string };
  readonly?: unknown;
}

/**
 * Refuses a node libvirt could not snapshot internally, before asking it: UEFI firmware (its
 * NVRAM is a pflash file), a writable disk that is not qcow2 (a raw data volume) named with its
 * volume, or no qcow2 disk at all (a live ISO node).
 */
async function checkSnapshotDisks(ctx: LibvirtContext, dom: DomainHandle, node: string): Promise<void> {
  const doc = parseXml(await ctx.client.domains.getXmlDesc(dom, XML_INACTIVE)) as {
    domain?: { os?: { loader?: { '@type'?: string } }; devices?: { disk?: XmlDisk[] } };
  };
  if (doc.domain?.os?.loader?.['@type'] === 'pflash')
    throw new VmkitError(
      'UNSUPPORTED',
      `node ${node} boots UEFI firmware: libvirt 9.0 takes no internal snapshot of a domain whose ` +
        'firmware variables live in a pflash NVRAM file (the snapshot could not hold them)',
      { details: { node, firmware: 'efi' } },
    );
  const disks = (doc.domain?.devices?.disk ?? []).filter(
    (d) => (d['@device'] ?? 'disk') === 'disk' && d.readonly === undefined,
  );
  for (const d of disks) {
    const format = d.driver?.['@type'] ?? 'raw';
    if (format === 'qcow2') continue;
    const volume = d.source?.['@volume'] ?? d.source?.['@file'] ?? d.target?.['@dev'] ?? '?';
    throw new VmkitError(
      'UNSUPPORTED',
      `node ${node} has the ${format} data volume ${volume} (${d.target?.['@dev'] ?? '?'}): libvirt snapshots ` +
        `are internal to qcow2 disks and cannot include a writable ${format} disk`,
      { details: { node, volume, format } },
    );
  }
  if (disks.length === 0)
    throw new VmkitError('UNSUPPORTED', `node ${node} has no disk of its own to snapshot (a live ISO node)`, {
      details: { node },
    });
}

/** Reads a snapshot's XML into what vmkit lists. */
function snapshotOf(xml: string, current: string | undefined): NodeSnapshot {
  const doc = parseXml(xml) as {
    domainsnapshot?: {
      name?: string;
      description?: string;
      state?: string;
      creationTime?: string;
      parent?: { name?: string };
      memory?: { '@snapshot'?: string };
    };
  };
  const s = doc.domainsnapshot ?? {};
  const name = String(s.name ?? '');
  const seconds = Number(s.creationTime ?? 0);
  const memory = s.memory?.['@snapshot'] === 'internal' || s.state === 'running' || s.state === 'paused';
  return {
    name,
    ...(s.description === undefined ? {} : { description: String(s.description) }),
    createdAt: new Date(seconds * 1000).toISOString(),
    memory,
    current: name === current,
    ...(s.parent?.name === undefined ? {} : { parent: String(s.parent.name) }),
  };
}

/** The node's snapshot of that name: `NOT_FOUND` naming the node and the snapshot. */
async function findSnapshot(ctx: LibvirtContext, dom: DomainHandle, node: string, name: string) {
  try {
    return await ctx.client.snapshots.lookupByName(dom, name);
  } catch (error) {
    if (VmkitError.is(error, 'NOT_FOUND'))
      throw new VmkitError('NOT_FOUND', `node ${node} has no snapshot ${name}`, {
        cause: error,
        details: { node, snapshot: name },
      });
    throw error;
  }
}

async function describeSnapshots(
  ctx: LibvirtContext,
  dom: DomainHandle,
  snaps: readonly DomainSnapshotHandle[],
): Promise<NodeSnapshot[]> {
  const current = (await ctx.client.snapshots.current(dom))?.name;
  const listed: NodeSnapshot[] = [];
  for (const snap of snaps) listed.push(snapshotOf(await ctx.client.snapshots.getXmlDesc(snap), current));
  // Oldest first; snapshots of one second keep libvirt's parents-first order (a stable sort).
  return listed.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
}

/**
 * Takes an internal snapshot of a node's overlay, with its memory when it runs (libvirt pauses the
 * vCPUs for the memory dump). libvirt refuses a taken name before writing anything.
 */
export async function snapshotLibvirtNode(
  ctx: LibvirtContext,
  id: string,
  request: SnapshotRequest,
  options: OperationOptions = {},
): Promise<NodeSnapshot> {
  throwIfAborted(options.signal, `snapshot of ${id}`);
  const { dom, meta } = await lookupNode(ctx, id);
  await checkSnapshotDisks(ctx, dom, meta.name);
  const running = await ctx.client.domains.isActive(dom);
  if (running !== request.memory)
    throw new VmkitError(
      running ? 'UNSUPPORTED' : 'CONFLICT',
      running
        ? `memory: libvirt snapshots running node ${meta.name} only with its memory`
        : `memory: node ${meta.name} is stopped, it has no memory to save`,
      { details: { node: id, field: 'memory' } },
    );
  const xml =
    `<domainsnapshot><name>${xmlEscape(request.name)}</name>` +
    (request.description === undefined
      ? ''
      : `<description>${xmlEscape(request.description)}</description>`) +
    '</domainsnapshot>';
  let snap: DomainSnapshotHandle;
  try {
    snap = await ctx.client.snapshots.create(dom, xml);
  } catch (error) {
    if (VmkitError.is(error) && /already exists/i.test(error.message))
      throw new VmkitError('CONFLICT', `node ${meta.name} already has a snapshot named ${request.name}`, {
        cause: error,
        details: { node: id, snapshot: request.name },
      });
    throw error;
  }
  return snapshotOf(await ctx.client.snapshots.getXmlDesc(snap), snap.name);
}

/** The node's snapshots, oldest first. */
export async function listLibvirtNodeSnapshots(ctx: LibvirtContext, id: string): Promise<NodeSnapshot[]> {
  const { dom } = await lookupNode(ctx, id);
  return describeSnapshots(ctx, dom, await ctx.client.snapshots.listAll(dom, SnapshotListFlags.TOPOLOGICAL));
}

/**
 * Reverts a node to a snapshot: a memory snapshot restarts its QEMU from the saved state (the
 * domain id changes, the guest agent reconnects); a disk one leaves the domain shut off.
 */
export async function revertLibvirtNode(
  ctx: LibvirtContext,
  id: string,
  name: string,
  options: OperationOptions = {},
): Promise<void> {
  throwIfAborted(options.signal, `revert of ${id}`);
  const { dom, meta } = await lookupNode(ctx, id);
  await ctx.client.snapshots.revert(await findSnapshot(ctx, dom, meta.name, name));
}

/** Deletes one snapshot (its data in the overlay and its metadata); its children stay valid. */
export async function deleteLibvirtNodeSnapshot(
  ctx: LibvirtContext,
  id: string,
  name: string,
): Promise<void> {
  const { dom, meta } = await lookupNode(ctx, id);
  await ctx.client.snapshots.delete(await findSnapshot(ctx, dom, meta.name, name));
}
