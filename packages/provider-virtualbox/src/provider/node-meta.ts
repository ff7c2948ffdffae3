import type { BoundNetwork, Hardware, ProviderNode } from '@vmkit/core/spi';

/** The extra-data key holding vmkit's record of a node; machines without it are not nodes. */
export const NODE_META_KEY = 'vmkit/node';

/** What vmkit stores with a node (JSON in the machine's extra data). */
export interface StoredNodeMeta {
  readonly v: 1;
  readonly kind: 'node';
  readonly name: string;
  readonly group: string;
  readonly imageId: string;
  readonly master: string;
  readonly hardware: Hardware;
  readonly network: BoundNetwork;
  readonly tags: readonly string[];
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly linkedClone: boolean;
  readonly createdAt: string;
  /** The config drive image, deleted with the node. */
  readonly configDrive?: string;
}

/** Parses stored metadata; anything else (foreign or damaged) is `undefined`. */
export function parseNodeMeta(text: string): StoredNodeMeta | undefined {
  if (!text) return undefined;
  try {
    const meta = JSON.parse(text) as Partial<StoredNodeMeta>;
    if (
      meta.v !== 1 ||
      meta.kind !== 'node' ||
      typeof meta.name !== 'string' ||
      !meta.network ||
      !meta.hardware
    )
      return undefined;
    return meta as StoredNodeMeta;
  } catch {
    return undefined;
  }
}

/** The node a machine is, from its id, metadata, state and guest-reported addresses. */
export function describeNode(
  id: string,
  meta: StoredNodeMeta,
  status: ProviderNode['status'],
  addresses: readonly string[],
): ProviderNode {
  const forwards = meta.network.nics.flatMap((n) => n.portForwards.map((f) => f.hostIp));
  return {
    id,
    name: meta.name,
    group: meta.group,
    imageId: meta.imageId,
    status,
    hardware: meta.hardware,
    network: meta.network,
    publicAddresses: [...new Set(forwards)],
    privateAddresses: [...addresses],
    tags: meta.tags,
    userMetadata: meta.userMetadata,
    linkedClone: meta.linkedClone,
    createdAt: meta.createdAt,
  };
}

/** IPv4 addresses guest additions reported (`/VirtualBox/GuestInfo/Net/N/V4/IP`), in adapter order. */
export function reportedAddresses(props: ReadonlyMap<string, string>): string[] {
  const out: Array<[number, string]> = [];
  for (const [name, value] of props) {
    const m = /^\/VirtualBox\/GuestInfo\/Net\/(\d+)\/V4\/IP$/.exec(name);
    if (m && value) out.push([Number(m[1]), value]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}
