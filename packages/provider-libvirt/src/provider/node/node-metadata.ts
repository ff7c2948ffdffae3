import {
  type BuildRecord,
  NODE_RECORD_VERSION,
  type NodeRecord,
  nodeRecordCodec,
  nodeRecordError,
  onlyKeys,
  recordArray,
  recordObject,
  recordString,
  type StoredRecord,
  VmkitError,
} from '@vmkit/core/spi';
import { parseXml, xmlEscape } from '../xml/xml-text.js';

/** Namespace of vmkit's element in a domain's `<metadata>`. */
export const VMKIT_METADATA_NAMESPACE = 'https://vmkit.dev/xmlns/libvirt/node/1';

/** libvirt's own fields of a node record. */
export interface LibvirtNodeExt {
  /** Volumes the node owns (deleted with it): its disk, config drive and data volumes. */
  readonly volumes: readonly string[];
}

/** What vmkit stores in a node's domain, so any process can list and describe it. */
export type LibvirtNodeRecord = NodeRecord<LibvirtNodeExt>;

/** A record in a domain: a node's, or a build domain's (installer, post-install boot). */
export type LibvirtRecord = StoredRecord<LibvirtNodeExt>;

const codec = nodeRecordCodec<LibvirtNodeExt>({
  check(value, field) {
    const ext = recordObject(value, field);
    onlyKeys(ext, field, ['volumes']);
    const volumes = recordArray(ext.volumes, `${field}.volumes`, 64, (v, f) =>
      recordString(v, f, /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'must be a volume name'),
    );
    return { volumes };
  },
  // Before version 2, records had no version: nodes carried `volumes` beside the common fields,
  // build domains were `kind: 'installer'` with their role in `hardware.id`.
  upgrade(old) {
    if ('v' in old) return undefined;
    const { volumes, ...common } = old;
    if (old.kind !== 'installer') return { ...common, v: NODE_RECORD_VERSION, ext: { volumes } };
    const role = (old.hardware as { id?: unknown } | undefined)?.id;
    return {
      v: NODE_RECORD_VERSION,
      kind: 'build',
      name: old.name,
      imageId: old.imageId,
      master: old.master,
      role,
      createdAt: old.createdAt,
    };
  },
});

/** The metadata element (`<vmkit:node>` holding the record's JSON) to put in `<metadata>`. */
export function renderNodeMetadata(record: LibvirtRecord): string {
  return `<vmkit:node xmlns:vmkit="${VMKIT_METADATA_NAMESPACE}">${xmlEscape(codec.encode(record))}</vmkit:node>`;
}

/**
 * Reads vmkit's record out of domain XML: `undefined` when the domain carries none (not vmkit's);
 * `CORRUPT` naming the field when it carries one that breaks a rule (see `nodeRecordCodec`), or
 * names volumes that are not the domain's own (`<domain>.qcow2`, `<domain>-config.iso|img`,
 * `<domain>-data<N>.img`, `<domain>-VARS.fd`), since destroying the node deletes them.
 */
export function readNodeRecord(domainXml: string): LibvirtRecord | undefined {
  const doc = parseXml(domainXml) as { domain?: { name?: unknown; metadata?: Record<string, unknown> } };
  const md = doc.domain?.metadata;
  if (!md || typeof md !== 'object') return undefined;
  for (const [key, value] of Object.entries(md)) {
    if (!key.endsWith(':node') && key !== 'node') continue;
    const v = value as Record<string, unknown> | string;
    const ns =
      typeof v === 'object' ? Object.entries(v).find(([k]) => k.startsWith('@xmlns'))?.[1] : undefined;
    if (ns !== VMKIT_METADATA_NAMESPACE) continue;
    const text = typeof v === 'object' ? (v['#text'] as string | undefined) : v;
    const record = codec.decode(typeof text === 'string' ? text : '');
    const domain = doc.domain?.name;
    assertOwnNames(typeof domain === 'string' ? domain : '', record);
    return record;
  }
  return undefined;
}

/** {@link readNodeRecord}, with a record that breaks a rule read as none (the domain is not listed as vmkit's). */
export function readNodeMetadata(domainXml: string): LibvirtRecord | undefined {
  try {
    return readNodeRecord(domainXml);
  } catch (error) {
    if (VmkitError.is(error, 'CORRUPT')) return undefined;
    throw error;
  }
}

function assertOwnNames(domain: string, record: LibvirtRecord): void {
  if (record.kind === 'build') {
    if (record.name !== domain) throw nodeRecordError('name', `must be the domain's name ${domain}`);
    return;
  }
  if (!domain.endsWith(record.name)) throw nodeRecordError('name', `must end the domain's name ${domain}`);
  const own = new RegExp(
    `^${domain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.qcow2|-config\\.(iso|img)|-data\\d{1,3}\\.img|-VARS\\.fd|-console\\.log)$`,
  );
  for (const [i, volume] of record.ext.volumes.entries())
    if (!own.test(volume))
      throw nodeRecordError(
        `ext.volumes[${i}]`,
        `must be a volume of domain ${domain} (${domain}.qcow2, -config.iso|img, -data<N>.img, -VARS.fd, -console.log)`,
      );
}

/**
 * The record of a temporary domain that works on a master's disk during its build (the
 * installer or the post-install boot), so it is recognisable as ours and never listed as a node.
 */
export function renderBuildDomainMetadata(
  domain: string,
  imageId: string,
  masterVolume: string,
  role: string,
): string {
  const record: BuildRecord = {
    v: NODE_RECORD_VERSION,
    kind: 'build',
    name: domain,
    imageId,
    master: masterVolume,
    role,
    createdAt: new Date().toISOString(),
  };
  return renderNodeMetadata(record);
}
