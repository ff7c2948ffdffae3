import type { ConfigDriveSpec } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core/spi';

const FORMATS = ['nocloud', 'openstack', 'ovf'];
const FILESYSTEMS = ['iso9660', 'vfat'];
const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Validates a {@link ConfigDriveSpec} eagerly, naming the bad field and the rule. */
export function validateConfigDriveSpec(spec: ConfigDriveSpec): void {
  if (typeof spec !== 'object' || spec === null) throw invalidArgument('spec', 'must be an object');
  if (!FORMATS.includes(spec.format))
    throw invalidArgument('spec.format', "must be 'nocloud', 'openstack' or 'ovf'");
  if (spec.filesystem !== undefined && !FILESYSTEMS.includes(spec.filesystem)) {
    throw invalidArgument('spec.filesystem', "must be 'iso9660' or 'vfat'");
  }
  if (spec.format === 'ovf' && spec.filesystem === 'vfat') {
    throw invalidArgument('spec.filesystem', 'an OVF environment is delivered on an iso9660 CD, not vfat');
  }
  const { instanceId, hostname } = spec;
  if (
    typeof instanceId !== 'string' ||
    instanceId.length === 0 ||
    instanceId.length > 255 ||
    CONTROL.test(instanceId)
  ) {
    throw invalidArgument(
      'spec.instanceId',
      'must be 1 to 255 characters without control characters (C0, DEL or C1)',
    );
  }
  if (hostname !== undefined) {
    if (typeof hostname !== 'string' || hostname.length === 0 || hostname.length > 253) {
      throw invalidArgument('spec.hostname', 'must be a host name of 1 to 253 characters');
    }
    if (
      !hostname
        .replace(/\.$/, '')
        .split('.')
        .every((label) => HOST_LABEL.test(label))
    ) {
      throw invalidArgument(
        'spec.hostname',
        'must be dot-separated labels of letters, digits and inner hyphens (RFC 1123)',
      );
    }
  }
  opaque(spec.userData, 'spec.userData');
  opaque(spec.vendorData, 'spec.vendorData');
  const net = spec.networkConfig;
  if (
    net !== undefined &&
    typeof net !== 'string' &&
    (typeof net !== 'object' || net === null || Array.isArray(net))
  ) {
    throw invalidArgument('spec.networkConfig', 'must be a string or a plain object');
  }
  if (spec.metaData !== undefined) {
    if (typeof spec.metaData !== 'object' || spec.metaData === null || Array.isArray(spec.metaData)) {
      throw invalidArgument('spec.metaData', 'must be a plain object');
    }
    try {
      JSON.stringify(spec.metaData);
    } catch (error) {
      throw invalidArgument('spec.metaData', `must be JSON-serialisable: ${(error as Error).message}`);
    }
  }
  if (spec.publicKeys !== undefined) {
    if (!Array.isArray(spec.publicKeys))
      throw invalidArgument('spec.publicKeys', 'must be an array of strings');
    spec.publicKeys.forEach((key, i) => {
      if (
        typeof key !== 'string' ||
        key.trim().length === 0 ||
        /[\r\n]/.test(key) ||
        key.includes('\u0000') ||
        key.length > 16384
      ) {
        throw invalidArgument(
          `spec.publicKeys[${i}]`,
          'must be one non-empty line of at most 16384 characters',
        );
      }
    });
  }
  if (spec.files !== undefined) {
    if (!Array.isArray(spec.files))
      throw invalidArgument('spec.files', 'must be an array of { path, content }');
    spec.files.forEach((file, i) => {
      if (typeof file !== 'object' || file === null || typeof file.path !== 'string') {
        throw invalidArgument(`spec.files[${i}].path`, 'must be a string');
      }
      opaque(file.content, `spec.files[${i}].content`, true);
    });
  }
}

function opaque(value: unknown, field: string, required = false): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'string' && !(value instanceof Uint8Array))
    throw invalidArgument(field, 'must be a string or a Uint8Array');
}

/** The bytes of opaque data (strings as UTF-8). */
export function bytesOf(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(value) : value;
}

/** Refuses `metaData` keys that the layout derives from other fields. */
export function checkReservedKeys(
  metaData: Readonly<Record<string, unknown>> | undefined,
  reserved: Record<string, string>,
): void {
  for (const key of Object.keys(metaData ?? {})) {
    const owner = reserved[key];
    if (owner)
      throw invalidArgument(`spec.metaData.${key}`, `is set from ${owner}; do not repeat it in metaData`);
  }
}
