import type { BoundNetwork, Hardware } from '@vmkit/core/spi';
import { parseXml, xmlEscape } from '../xml/xml-text.js';

/** Namespace of vmkit's element in a domain's `<metadata>`. */
export const VMKIT_METADATA_NAMESPACE = 'https://vmkit.dev/xmlns/libvirt/node/1';

/** What vmkit stores in a node's domain, so any process can list and describe it. */
export interface StoredNodeMetadata {
  readonly kind: 'node' | 'installer';
  readonly name: string;
  readonly group: string;
  readonly imageId: string;
  readonly hardware: Hardware;
  readonly network: BoundNetwork;
  readonly tags: readonly string[];
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly linkedClone: boolean;
  readonly createdAt: string;
  /** Volumes the node owns (deleted with it). */
  readonly volumes: readonly string[];
  readonly master: string;
}

/** The metadata element (`<vmkit:node>` holding JSON) to put in `<metadata>`. */
export function renderNodeMetadata(meta: StoredNodeMetadata): string {
  return `<vmkit:node xmlns:vmkit="${VMKIT_METADATA_NAMESPACE}">${xmlEscape(JSON.stringify(meta))}</vmkit:node>`;
}

/** Reads vmkit's metadata out of domain XML; `undefined` when the domain is not vmkit's. */
export function readNodeMetadata(domainXml: string): StoredNodeMetadata | undefined {
  const doc = parseXml(domainXml) as { domain?: { metadata?: Record<string, unknown> } };
  const md = doc.domain?.metadata;
  if (!md || typeof md !== 'object') return undefined;
  for (const [key, value] of Object.entries(md)) {
    if (!key.endsWith(':node') && key !== 'node') continue;
    const v = value as Record<string, unknown> | string;
    const ns =
      typeof v === 'object' ? Object.entries(v).find(([k]) => k.startsWith('@xmlns'))?.[1] : undefined;
    if (ns !== VMKIT_METADATA_NAMESPACE) continue;
    const text = typeof v === 'object' ? (v['#text'] as string | undefined) : v;
    if (!text) return undefined;
    try {
      const parsed = JSON.parse(text) as StoredNodeMetadata;
      return typeof parsed.name === 'string' && typeof parsed.kind === 'string' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The metadata of a temporary domain that works on a master's disk during its build (the
 * installer or the post-install boot), so it is recognisable as ours and never listed as a node.
 */
export function renderBuildDomainMetadata(
  domain: string,
  imageId: string,
  masterVolume: string,
  role: string,
): string {
  return renderNodeMetadata({
    kind: 'installer',
    name: domain,
    group: '',
    imageId,
    hardware: { id: role, cores: 1, ramMiB: 256, diskGiB: 1 },
    network: { nics: [] },
    tags: [],
    userMetadata: {},
    linkedClone: false,
    createdAt: new Date().toISOString(),
    volumes: [],
    master: masterVolume,
  });
}
