import { stat } from 'node:fs/promises';
import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import type { BoundSharedFolder, SharedFolder } from '../model/shared-folder.js';
import type { TemplateOptions } from '../model/template.js';
import type { ProviderCapabilities } from '../spi/hypervisor-provider.js';

/** The mount tag (virtiofs) or share name (VirtualBox) of a node's `index`th shared folder. */
export const sharedFolderTag = (index: number): string => `vmkit${index}`;

/**
 * The shared folders of a template as a provider gets them: tags `vmkit0`, `vmkit1`, … in
 * template order (short, plain ASCII: virtiofs takes 36 bytes, 9p 31, VirtualBox any name).
 */
export function bindSharedFolders(folders: readonly SharedFolder[] | undefined): BoundSharedFolder[] {
  return (folders ?? []).map((f, i) => ({
    tag: sharedFolderTag(i),
    hostPath: f.hostPath,
    guestPath: f.guestPath,
    readOnly: f.readOnly ?? false,
  }));
}

/**
 * Refuses, before any work, shared folders the provider cannot give (`UNSUPPORTED`) or that no
 * config drive would mount (`configDrive: false`, `INVALID_ARGUMENT`).
 */
export function checkSharedFolderSupport(
  options: TemplateOptions,
  caps: ProviderCapabilities,
  provider: string,
): void {
  if ((options.sharedFolders?.length ?? 0) === 0) return;
  if (!caps.sharedFolders) {
    throw new VmkitError(
      'UNSUPPORTED',
      `sharedFolders: ${provider} cannot share host folders with nodes (leave sharedFolders out)`,
      { details: { field: 'sharedFolders' } },
    );
  }
  if (options.configDrive === false) {
    throw invalidArgument(
      'configDrive',
      'must not be false with sharedFolders: the config drive mounts them in the guest',
    );
  }
}

/**
 * Refuses (`INVALID_ARGUMENT` naming `sharedFolders[i].hostPath` and the path) a host path that
 * does not exist or is not a directory. Only for a hypervisor on this machine (`local`): a remote
 * one's paths are on its own host, where the hypervisor refuses a missing one when the node starts.
 */
export async function checkSharedFolderHosts(
  folders: readonly SharedFolder[] | undefined,
  local: boolean,
): Promise<void> {
  if (!local) return;
  for (const [i, f] of (folders ?? []).entries()) {
    const field = `sharedFolders[${i}].hostPath`;
    const info = await stat(f.hostPath).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${code})`;
      throw invalidArgument(field, `must be an existing directory of the host: ${f.hostPath} ${why}`);
    });
    if (!info.isDirectory()) {
      throw invalidArgument(
        field,
        `must be an existing directory of the host: ${f.hostPath} is not a directory`,
      );
    }
  }
}
