import type { ConfigDriveSpec } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core/spi';
import { writeFat, writeFatToFile } from '../fat/fat-writer.js';
import { type MediaFileResult, writeIso9660, writeIso9660ToFile } from '../iso9660/iso-writer.js';
import { utf8 } from '../util/bytes.js';
import type { ConfigDriveLayout } from './config-drive-layout.js';
import {
  type BuildConfigDriveOptions,
  type ResolvedConfigDriveOptions,
  resolveConfigDriveOptions,
} from './config-drive-options.js';
import { nocloudLayout } from './nocloud.js';
import { openstackLayout } from './openstack.js';
import { ovfLayout } from './ovf.js';
import { bytesOf, validateConfigDriveSpec } from './validate-spec.js';

/**
 * The files and label of the config drive `spec` describes, validated and within the limits of
 * `options` (total content bytes, file count). Useful to inspect a drive or write it elsewhere.
 */
export function configDriveLayout(
  spec: ConfigDriveSpec,
  options: BuildConfigDriveOptions = {},
): ConfigDriveLayout {
  const resolved = resolveConfigDriveOptions(options);
  validateConfigDriveSpec(spec);
  const layout =
    spec.format === 'nocloud'
      ? nocloudLayout(spec)
      : spec.format === 'openstack'
        ? openstackLayout(spec, resolved.randomSeed)
        : ovfLayout(spec);
  checkLimits(spec, layout, resolved);
  return Object.freeze({ ...layout, entries: Object.freeze(layout.entries) });
}

function checkLimits(
  spec: ConfigDriveSpec,
  layout: ConfigDriveLayout,
  options: ResolvedConfigDriveOptions,
): void {
  if (layout.entries.length > options.maxFiles) {
    throw invalidArgument(
      'spec.files',
      `the drive would hold ${layout.entries.length} files; the limit is ${options.maxFiles} (options.maxFiles)`,
    );
  }
  const userBytes = spec.userData === undefined ? 0 : bytesOf(spec.userData).length;
  if (userBytes > options.maxBytes) {
    throw invalidArgument(
      'spec.userData',
      `is ${userBytes} bytes; the limit for the whole drive is ${options.maxBytes} (options.maxBytes)`,
    );
  }
  let total = 0;
  let userTotal = 0;
  let userCopies = 0;
  for (const entry of layout.entries) {
    const content = entry.content;
    const size =
      typeof content === 'string' ? utf8(content).length : content instanceof Uint8Array ? content.length : 0;
    total += size;
    if (spec.userData !== undefined && content === spec.userData) {
      userTotal += size;
      userCopies++;
    }
  }
  if (total <= options.maxBytes) return;
  // When the rest of the drive would fit, the user data (written once per metadata version on
  // OpenStack drives) is what is too large: name it rather than the whole spec.
  if (userCopies > 0 && total - userTotal <= options.maxBytes) {
    const each = userTotal / userCopies;
    const copies = userCopies > 1 ? `, written ${userCopies} times,` : '';
    throw invalidArgument(
      'spec.userData',
      `is ${each} bytes${copies} and makes the drive ${total} bytes; the limit is ${options.maxBytes} (options.maxBytes)`,
    );
  }
  throw invalidArgument(
    'spec',
    `the drive content is ${total} bytes; the limit is ${options.maxBytes} (options.maxBytes)`,
  );
}

/**
 * Builds a config drive guests read at first boot: cloud-init NoCloud (`cidata`), OpenStack config
 * drive (`config-2`) or OVF environment (`ovf-env.xml`), on iso9660 (default; Joliet and Rock Ridge)
 * or vfat. User data is written as opaque bytes.
 *
 * @throws `INVALID_ARGUMENT` naming the spec field or option and the rule broken, including limits.
 */
export async function buildConfigDrive(
  spec: ConfigDriveSpec,
  options: BuildConfigDriveOptions = {},
): Promise<Uint8Array> {
  const layout = configDriveLayout(spec, options);
  const common = {
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  if (layout.filesystem === 'vfat') return writeFat(layout.entries, { label: layout.label, ...common });
  return writeIso9660(layout.entries, { volumeId: layout.label, ...common });
}

/** Like {@link buildConfigDrive}, writing the drive to `path` (nothing is left behind on failure). */
export async function buildConfigDriveToFile(
  spec: ConfigDriveSpec,
  path: string,
  options: BuildConfigDriveOptions = {},
): Promise<MediaFileResult> {
  const layout = configDriveLayout(spec, options);
  const common = {
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  if (layout.filesystem === 'vfat')
    return writeFatToFile(layout.entries, path, { label: layout.label, ...common });
  return writeIso9660ToFile(layout.entries, path, { volumeId: layout.label, ...common });
}
