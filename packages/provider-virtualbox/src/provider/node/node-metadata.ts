import { basename, isAbsolute, normalize } from 'node:path';
import {
  type GuestInterface,
  NODE_RECORD_VERSION,
  type NodeRecord,
  nicAddressesFromGuest,
  nodeRecordCodec,
  nodeRecordError,
  onlyKeys,
  type ProviderNode,
  recordedNode,
  recordObject,
  splitNicAddresses,
  VmkitError,
} from '@vmkit/core/spi';

/** The extra-data key holding vmkit's record of a node; machines without it are not nodes. */
export const NODE_META_KEY = 'vmkit/node';

/** VirtualBox's own fields of a node record. */
export interface VboxNodeExt {
  /** The config drive image, deleted with the node (only inside the machine folder). */
  readonly configDrive?: string;
}

/** What vmkit stores with a node (JSON in the machine's extra data). */
export type StoredNodeMeta = NodeRecord<VboxNodeExt>;

const codec = nodeRecordCodec<VboxNodeExt>({
  check(value, field) {
    const ext = recordObject(value, field);
    onlyKeys(ext, field, ['configDrive']);
    const drive = ext.configDrive;
    if (drive === undefined) return {};
    if (typeof drive !== 'string' || drive.length > 4096 || !isAbsolute(drive) || normalize(drive) !== drive)
      throw nodeRecordError(`${field}.configDrive`, 'must be an absolute, normalised path');
    return { configDrive: drive };
  },
  // Version 1 had the config drive beside the common fields.
  upgrade(old) {
    if (old.v !== 1) return undefined;
    const { configDrive, ...common } = old;
    return { ...common, v: NODE_RECORD_VERSION, ext: configDrive === undefined ? {} : { configDrive } };
  },
});

/** The record as stored in extra data. */
export function encodeNodeMeta(meta: StoredNodeMeta): string {
  return codec.encode(meta);
}

/**
 * Parses the stored metadata of the machine `machine` (untrusted input): `undefined` when there
 * is none (not a node); `CORRUPT` naming the field when it breaks a rule (see `nodeRecordCodec`)
 * or names a config drive that is not the machine's own (`<machine>-config-<16 hex>.iso`, as
 * `cloneNode` writes it), since destroying the node deletes it.
 */
export function readNodeMeta(text: string, machine: string): StoredNodeMeta | undefined {
  if (!text) return undefined;
  const record = codec.decode(text);
  if (record.kind !== 'node') throw nodeRecordError('kind', "must be 'node'");
  const drive = record.ext.configDrive;
  if (drive !== undefined && !ownDrive(machine, basename(drive)))
    throw nodeRecordError('ext.configDrive', `must be ${machine}-config-<16 hex digits>.iso`);
  return record;
}

function ownDrive(machine: string, file: string): boolean {
  const rest = file.startsWith(`${machine}-config-`) ? file.slice(machine.length + 8) : '';
  return /^[0-9a-f]{16}\.iso$/.test(rest);
}

/** {@link readNodeMeta}, with metadata that breaks a rule read as none (the machine is not listed as a node). */
export function parseNodeMeta(text: string, machine: string): StoredNodeMeta | undefined {
  try {
    return readNodeMeta(text, machine);
  } catch (error) {
    if (VmkitError.is(error, 'CORRUPT')) return undefined;
    throw error;
  }
}

/**
 * The node a machine is, from its id, metadata, state and the interfaces its guest reported
 * (see {@link guestInterfaces}; none while it is not running): `nicAddresses` has every NIC,
 * with the addresses of the guest interface of its MAC when the guest reported one; those that
 * are private are `privateAddresses`, the others join the port forwards' `publicAddresses`.
 * Nothing is assumed.
 */
export function describeNode(
  id: string,
  meta: StoredNodeMeta,
  status: ProviderNode['status'],
  interfaces: readonly GuestInterface[],
): ProviderNode {
  const nicAddresses = nicAddressesFromGuest(meta.network, interfaces, 'guest-properties');
  const { privateAddresses, publicAddresses } = splitNicAddresses(nicAddresses);
  const node = recordedNode(id, meta, status, privateAddresses);
  return {
    ...node,
    publicAddresses: [...new Set([...node.publicAddresses, ...publicAddresses])],
    nicAddresses,
  };
}
