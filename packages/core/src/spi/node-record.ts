import type { NodeStatus } from '../model/node-metadata.js';
import type { CloneSpec } from './clone-spec.js';
import type { ProviderNode } from './hypervisor-provider.js';
import {
  type CheckedNodeFields,
  checkNodeFields,
  checkRecordIdentity,
  MAX_WARM_REASON_CHARS,
  type NodeWarmOutcome,
} from './node-record-check.js';
import { nodeRecordError, onlyKeys, recordObject, recordString } from './node-record-fields.js';

/** The version of the node records {@link nodeRecordCodec} writes (the `v` field). */
export const NODE_RECORD_VERSION = 2;

/** The largest record read: a record is a few KiB; anything huge is hostile. */
export const MAX_NODE_RECORD_CHARS = 1024 * 1024;

/**
 * What vmkit stores with a node on the hypervisor (a libvirt domain's metadata, a VirtualBox
 * machine's extra data), so any process can list and describe it. `ext` holds the provider's own
 * fields (the volumes a node owns, its config drive file...), checked by its
 * {@link NodeRecordExtension}.
 */
export interface NodeRecord<X = unknown> extends CheckedNodeFields {
  /** {@link NODE_RECORD_VERSION}. */
  readonly v: typeof NODE_RECORD_VERSION;
  /** A node. */
  readonly kind: 'node';
  /** The provider's fields. */
  readonly ext: X;
}

/**
 * The record of a machine that works on a master's disk during its build (an installer, a
 * post-install boot), so it is recognisable as vmkit's and never listed as a node.
 */
export interface BuildRecord {
  /** {@link NODE_RECORD_VERSION}. */
  readonly v: typeof NODE_RECORD_VERSION;
  /** A build machine. */
  readonly kind: 'build';
  /** The machine's name. */
  readonly name: string;
  /** The image being built. */
  readonly imageId: string;
  /** The master (volume, machine) it works on. */
  readonly master: string;
  /** What it does, e.g. `installer` or `post-install`. */
  readonly role: string;
  /** When it was made (ISO 8601). */
  readonly createdAt: string;
}

/** A stored record: a node's or a build machine's. */
export type StoredRecord<X = unknown> = NodeRecord<X> | BuildRecord;

/** A provider's part of the node record: its own fields, and how its records of old versions read. */
export interface NodeRecordExtension<X> {
  /**
   * Checks the provider's fields (`ext`) of a record read back (untrusted input) and returns them;
   * throws {@link nodeRecordError} naming the field (`field` is `ext`; name sub-fields
   * `ext.volumes[0]`) for anything the provider would not have written.
   */
  check(value: unknown, field: string): X;
  /**
   * Turns a record this provider wrote before version {@link NODE_RECORD_VERSION} into the current
   * shape (which is then checked as any record is), or `undefined` when it is not one of its old
   * records (refused then as a wrong version).
   */
  upgrade?(old: Readonly<Record<string, unknown>>): unknown;
}

/** Writes and reads node records with a provider's extension. */
export interface NodeRecordCodec<X> {
  /** The record as stored (JSON). */
  encode(record: StoredRecord<X>): string;
  /**
   * Reads a stored record (untrusted input): the current version checked field by field, a
   * provider's old version upgraded first. Throws `CORRUPT` ({@link nodeRecordError}) naming the
   * field and the rule: not JSON, a version this vmkit does not read, an unknown or bad field.
   */
  decode(text: string): StoredRecord<X>;
}

/** The node record codec of a provider, with its extension. */
export function nodeRecordCodec<X>(extension: NodeRecordExtension<X>): NodeRecordCodec<X> {
  return {
    encode: (record) => JSON.stringify(record),
    decode(text) {
      if (text.length > MAX_NODE_RECORD_CHARS)
        throw nodeRecordError('record', `must be at most ${MAX_NODE_RECORD_CHARS} characters`);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw nodeRecordError('record', 'must be JSON');
      }
      const r = recordObject(json, 'record');
      if (r.v === NODE_RECORD_VERSION) return checkRecord(r, extension);
      if (typeof r.v === 'number' && r.v > NODE_RECORD_VERSION)
        throw nodeRecordError(
          'v',
          `is ${r.v}: written by a newer vmkit (this one reads ${NODE_RECORD_VERSION})`,
        );
      const upgraded = extension.upgrade?.(r);
      if (upgraded === undefined) throw nodeRecordError('v', `must be ${NODE_RECORD_VERSION}`);
      const u = recordObject(upgraded, 'record');
      if (u.v !== NODE_RECORD_VERSION) throw nodeRecordError('v', `must be ${NODE_RECORD_VERSION}`);
      return checkRecord(u, extension);
    },
  };
}

function checkRecord<X>(r: Record<string, unknown>, extension: NodeRecordExtension<X>): StoredRecord<X> {
  if (r.kind === 'build') {
    onlyKeys(r, 'record', ['v', 'kind', 'name', 'imageId', 'master', 'role', 'createdAt']);
    return {
      v: NODE_RECORD_VERSION,
      kind: 'build',
      ...checkRecordIdentity(r),
      role: recordString(r.role, 'role', /^[a-z][a-z0-9-]{0,31}$/, 'must be 1-32 of a-z 0-9 -'),
    };
  }
  if (r.kind !== 'node') throw nodeRecordError('kind', "must be 'node' or 'build'");
  onlyKeys(r, 'record', [
    'v',
    'kind',
    'name',
    'group',
    'imageId',
    'master',
    'hardware',
    'network',
    'tags',
    'userMetadata',
    'linkedClone',
    'createdAt',
    'warm',
    'ext',
  ]);
  return { v: NODE_RECORD_VERSION, kind: 'node', ...checkNodeFields(r), ext: extension.check(r.ext, 'ext') };
}

/** The record of a node being cloned from `spec`, made now. */
export function newNodeRecord<X>(
  spec: CloneSpec,
  fields: {
    readonly master: string;
    readonly linkedClone: boolean;
    readonly ext: X;
    /** How the node of a warm call came up (a cold fallback's reason is cut to 1000 characters). */
    readonly warm?: NodeWarmOutcome;
  },
): NodeRecord<X> {
  const warm = fields.warm;
  return {
    v: NODE_RECORD_VERSION,
    kind: 'node',
    name: spec.name,
    group: spec.group,
    imageId: spec.imageId,
    master: fields.master,
    hardware: spec.hardware,
    network: spec.network,
    tags: [...spec.tags],
    userMetadata: { ...spec.userMetadata },
    linkedClone: fields.linkedClone,
    createdAt: new Date().toISOString(),
    ...(warm === undefined
      ? {}
      : {
          warm: warm.resumed
            ? { resumed: true }
            : { resumed: false, reason: (warm.reason || 'unknown').slice(0, MAX_WARM_REASON_CHARS) },
        }),
    ext: fields.ext,
  };
}

/**
 * The node a record describes, as core sees it (with the master it was cloned from): the addresses of its port forwards are public,
 * `privateAddresses` are those the provider knows (reported by the guest, or the NAT address).
 */
export function recordedNode(
  id: string,
  record: NodeRecord,
  status: NodeStatus,
  privateAddresses: readonly string[],
): ProviderNode {
  const forwards = record.network.nics.flatMap((n) => n.portForwards.map((f) => f.hostIp));
  return {
    id,
    name: record.name,
    group: record.group,
    imageId: record.imageId,
    master: record.master,
    status,
    hardware: record.hardware,
    network: record.network,
    publicAddresses: [...new Set(forwards)],
    privateAddresses: [...privateAddresses],
    tags: record.tags,
    userMetadata: record.userMetadata,
    linkedClone: record.linkedClone,
    createdAt: record.createdAt,
    ...(record.warm ? { warm: record.warm } : {}),
  };
}
