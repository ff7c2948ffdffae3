import { randomBytes } from 'node:crypto';
import type { ConfigDriveSpec } from '../model/config-drive-spec.js';
import type { BoundSharedFolder, SharedFolderType } from '../model/shared-folder.js';
import type { TemplateOptions } from '../model/template.js';
import { sharedFolderBoothook, withSharedFolderMounts } from './shared-folder-mounts.js';

/**
 * The vendor data a node's drive carries when its template gives none: cloud-init maps the node's
 * hostname to 127.0.1.1 in `/etc/hosts`, as cloud instances have it. Without it `sudo` (how vmkit
 * becomes root over SSH) prints "unable to resolve host" on every run, into the script's stderr.
 * User data can still turn vendor data off (`vendor_data: {enabled: false}`).
 */
export const DEFAULT_VENDOR_DATA = '#cloud-config\nmanage_etc_hosts: localhost\n';

/** The shared folders a node's drive mounts, and the file system they mount as. */
export interface SharedFolderMounts {
  readonly folders: readonly BoundSharedFolder[];
  readonly type: SharedFolderType;
}

/**
 * The config drive of one node, or `undefined` when the template asks for none. A drive is made
 * when `configDrive` is set, or implied by `userData`, `authorizePublicKey`, `sharedFolders` or a
 * NIC's static address (`network.nics[].ipv4`, written in the drive by the launcher). The node's
 * name is its hostname; its instance id is fresh; its vendor data {@link DEFAULT_VENDOR_DATA}
 * unless the template gives its own; with `mounts`, its user data also mounts the shared folders
 * at every boot (see {@link withSharedFolderMounts}).
 */
export function configDriveFor(
  nodeName: string,
  options: TemplateOptions,
  mounts?: SharedFolderMounts,
): ConfigDriveSpec | undefined {
  const wanted =
    options.configDrive ??
    (options.userData !== undefined ||
      options.authorizePublicKey !== undefined ||
      (options.sharedFolders?.length ?? 0) > 0 ||
      (options.network?.nics.some((nic) => nic.ipv4 !== undefined || nic.ipv6 !== undefined) ?? false));
  if (!wanted) return undefined;
  const choices = typeof wanted === 'object' ? wanted : {};
  const userData =
    mounts && mounts.folders.length > 0
      ? withSharedFolderMounts(options.userData, sharedFolderBoothook(mounts.folders, mounts.type))
      : options.userData;
  return {
    format: choices.format ?? 'nocloud',
    filesystem: choices.filesystem ?? 'iso9660',
    instanceId: `i-${randomBytes(8).toString('hex')}`,
    hostname: nodeName,
    ...(userData !== undefined ? { userData } : {}),
    vendorData: choices.vendorData ?? DEFAULT_VENDOR_DATA,
    ...(choices.networkConfig !== undefined ? { networkConfig: choices.networkConfig } : {}),
    ...(choices.metaData !== undefined ? { metaData: choices.metaData } : {}),
    ...(options.authorizePublicKey ? { publicKeys: [options.authorizePublicKey] } : {}),
    ...(choices.files ? { files: choices.files } : {}),
  };
}
