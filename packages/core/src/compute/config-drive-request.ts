import { randomBytes } from 'node:crypto';
import type { ConfigDriveSpec } from '../model/config-drive-spec.js';
import type { TemplateOptions } from '../model/template.js';

/**
 * The config drive of one node, or `undefined` when the template asks for none. A drive is made
 * when `configDrive` is set, or implied by `userData` or `authorizePublicKey`. The node's name is
 * its hostname; its instance id is fresh.
 */
export function configDriveFor(nodeName: string, options: TemplateOptions): ConfigDriveSpec | undefined {
  const wanted =
    options.configDrive ?? (options.userData !== undefined || options.authorizePublicKey !== undefined);
  if (!wanted) return undefined;
  const choices = typeof wanted === 'object' ? wanted : {};
  return {
    format: choices.format ?? 'nocloud',
    filesystem: choices.filesystem ?? 'iso9660',
    instanceId: `i-${randomBytes(8).toString('hex')}`,
    hostname: nodeName,
    ...(options.userData !== undefined ? { userData: options.userData } : {}),
    ...(choices.vendorData !== undefined ? { vendorData: choices.vendorData } : {}),
    ...(choices.networkConfig !== undefined ? { networkConfig: choices.networkConfig } : {}),
    ...(choices.metaData !== undefined ? { metaData: choices.metaData } : {}),
    ...(options.authorizePublicKey ? { publicKeys: [options.authorizePublicKey] } : {}),
    ...(choices.files ? { files: choices.files } : {}),
  };
}
