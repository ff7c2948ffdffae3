import type { Hardware } from '../model/hardware.js';
import type { BoundNetwork, BoundNic, BoundPortForward } from '../model/network-spec.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import { IMAGE_ID_PATTERN } from '../validation/patterns.js';
import {
  nodeRecordError,
  onlyKeys,
  recordArray,
  recordDate,
  recordInteger,
  recordIp,
  recordObject,
  recordString,
  recordText,
} from './node-record-fields.js';

// The rules a node record read back from the hypervisor must pass: what vmkit itself writes, with
// room for names providers derive (prefixes), and nothing else.

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const NAME_RULE = 'must be 1-255 of A-Z a-z 0-9 . _ -, starting with a letter or digit';
const GROUP = /^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const TAG = /^[A-Za-z0-9][A-Za-z0-9_.:=-]{0,62}$/;
const META_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const FORWARD_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const HOST_INTERFACE = /^[A-Za-z0-9_.:-]{1,15}$/;
const ATTACHMENTS = ['nat', 'bridged', 'hostOnly', 'internal'] as const;

/** The common fields of a node record (all but `v`, `kind` and `ext`), checked. */
export interface CheckedNodeFields {
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
  /** How a node of a warm call came up (see `NodeMetadata.warm`); absent on other nodes. */
  readonly warm?: NodeWarmOutcome;
}

/** How a node of a warm call came up: resumed from the saved state, or booted cold and why. */
export type NodeWarmOutcome = NonNullable<NodeMetadata['warm']>;

/** The longest reason a record keeps for a cold fallback (longer ones are cut when written). */
export const MAX_WARM_REASON_CHARS = 1000;

/** The fields every record has: its name, image, master and creation time. */
export function checkRecordIdentity(r: Record<string, unknown>): {
  name: string;
  imageId: string;
  master: string;
  createdAt: string;
} {
  return {
    name: recordString(r.name, 'name', NAME, NAME_RULE),
    imageId: recordString(
      r.imageId,
      'imageId',
      IMAGE_ID_PATTERN,
      'must be an image id (1-63 of a-z 0-9 . _ -)',
    ),
    master: recordText(r.master, 'master', 1, 255, '/\\'),
    createdAt: recordDate(r.createdAt, 'createdAt'),
  };
}

/** Checks the common fields of a node record. */
export function checkNodeFields(r: Record<string, unknown>): CheckedNodeFields {
  const identity = checkRecordIdentity(r);
  if (typeof r.linkedClone !== 'boolean') throw nodeRecordError('linkedClone', 'must be true or false');
  return {
    ...identity,
    group: recordString(r.group, 'group', GROUP, 'must be empty or 1-63 of A-Z a-z 0-9 . _ -'),
    hardware: checkHardware(r.hardware),
    network: checkNetwork(r.network),
    tags: recordArray(r.tags, 'tags', 128, (t, f) =>
      recordString(t, f, TAG, 'must be 1-63 of A-Z a-z 0-9 _ . : = -'),
    ),
    userMetadata: checkUserMetadata(r.userMetadata),
    linkedClone: r.linkedClone,
    ...(r.warm === undefined ? {} : { warm: checkWarm(r.warm) }),
  };
}

function checkWarm(value: unknown): NodeWarmOutcome {
  const w = recordObject(value, 'warm');
  onlyKeys(w, 'warm', ['resumed', 'reason']);
  if (typeof w.resumed !== 'boolean') throw nodeRecordError('warm.resumed', 'must be true or false');
  if (w.resumed && w.reason !== undefined)
    throw nodeRecordError('warm.reason', 'must be absent when resumed');
  if (!w.resumed && w.reason === undefined)
    throw nodeRecordError('warm.reason', 'must be given when not resumed');
  return w.resumed
    ? { resumed: true }
    : { resumed: false, reason: recordText(w.reason, 'warm.reason', 1, MAX_WARM_REASON_CHARS) };
}

function checkHardware(value: unknown): Hardware {
  const h = recordObject(value, 'hardware');
  onlyKeys(h, 'hardware', ['id', 'name', 'cores', 'ramMiB', 'diskGiB', 'firmware']);
  const name =
    h.name === undefined
      ? {}
      : {
          name: recordText(h.name, 'hardware.name', 0, 200),
        };
  if (h.firmware !== undefined && h.firmware !== 'bios' && h.firmware !== 'efi')
    throw nodeRecordError('hardware.firmware', "must be 'bios' or 'efi'");
  return {
    id: recordText(h.id, 'hardware.id', 1, 64),
    ...name,
    cores: recordInteger(h.cores, 'hardware.cores', 1, 1024),
    ramMiB: recordInteger(h.ramMiB, 'hardware.ramMiB', 1, 16 * 1024 * 1024),
    diskGiB: recordInteger(h.diskGiB, 'hardware.diskGiB', 0, 1024 * 1024),
    ...(h.firmware === undefined ? {} : { firmware: h.firmware }),
  };
}

function checkNetwork(value: unknown): BoundNetwork {
  const n = recordObject(value, 'network');
  onlyKeys(n, 'network', ['nics']);
  return { nics: recordArray(n.nics, 'network.nics', 8, checkNic) };
}

function checkNic(value: unknown, field: string): BoundNic {
  const n = recordObject(value, field);
  onlyKeys(n, field, ['slot', 'attachment', 'hostInterface', 'network', 'mac', 'portForwards']);
  if (!(ATTACHMENTS as readonly unknown[]).includes(n.attachment))
    throw nodeRecordError(`${field}.attachment`, `must be one of ${ATTACHMENTS.join(', ')}`);
  const hostInterface =
    n.hostInterface === undefined
      ? {}
      : {
          hostInterface: recordString(
            n.hostInterface,
            `${field}.hostInterface`,
            HOST_INTERFACE,
            'must be an interface name of 1-15 of A-Z a-z 0-9 _ . : -',
          ),
        };
  const network =
    n.network === undefined ? {} : { network: recordString(n.network, `${field}.network`, NAME, NAME_RULE) };
  return {
    slot: recordInteger(n.slot, `${field}.slot`, 0, 7),
    attachment: n.attachment as BoundNic['attachment'],
    ...hostInterface,
    ...network,
    mac: recordString(n.mac, `${field}.mac`, MAC, 'must be a MAC address xx:xx:xx:xx:xx:xx'),
    portForwards: recordArray(n.portForwards, `${field}.portForwards`, 64, checkForward),
  };
}

function checkForward(value: unknown, field: string): BoundPortForward {
  const f = recordObject(value, field);
  onlyKeys(f, field, ['name', 'protocol', 'hostIp', 'hostPort', 'guestIp', 'guestPort']);
  if (f.protocol !== 'tcp' && f.protocol !== 'udp')
    throw nodeRecordError(`${field}.protocol`, "must be 'tcp' or 'udp'");
  return {
    name: recordString(f.name, `${field}.name`, FORWARD_NAME, 'must be 1-32 of a-z 0-9 _ -'),
    protocol: f.protocol,
    hostIp: recordIp(f.hostIp, `${field}.hostIp`),
    hostPort: recordInteger(f.hostPort, `${field}.hostPort`, 1, 65535),
    ...(f.guestIp === undefined ? {} : { guestIp: recordIp(f.guestIp, `${field}.guestIp`) }),
    guestPort: recordInteger(f.guestPort, `${field}.guestPort`, 1, 65535),
  };
}

function checkUserMetadata(value: unknown): Readonly<Record<string, string>> {
  const m = recordObject(value, 'userMetadata');
  const entries = Object.entries(m);
  if (entries.length > 128) throw nodeRecordError('userMetadata', 'must have at most 128 entries');
  const out: Record<string, string> = {};
  for (const [key, v] of entries) {
    recordString(
      key,
      `userMetadata[${JSON.stringify(key)}]`,
      META_KEY,
      'keys must be 1-63 of A-Z a-z 0-9 _ . -',
    );
    out[key] = recordText(v, `userMetadata.${key}`, 0, 4096);
  }
  return out;
}
