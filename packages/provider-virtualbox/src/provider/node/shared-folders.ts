import { type BoundSharedFolder, invalidArgument } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import { hasResult, VBOX_RESULT } from '../../soap/errors.js';

/**
 * Makes a node's shared folders permanent shared folders of its (session, mutable) machine, named
 * by their tags, writable unless read-only, not auto-mounted: the node's config drive mounts them
 * (`mount -t vboxsf`), which needs the Guest Additions' vboxsf in the guest. VirtualBox refuses
 * writes to a read-only one on the host side. A host path VirtualBox cannot reach is refused
 * naming its field.
 */
export async function createSharedFolders(
  m: vbox.IMachine,
  folders: readonly BoundSharedFolder[],
): Promise<void> {
  for (const [i, f] of folders.entries()) {
    try {
      await m.createSharedFolder(f.tag, f.hostPath, !f.readOnly, false, '');
    } catch (error) {
      if (!hasResult(error, VBOX_RESULT.FILE_ERROR)) throw error;
      throw invalidArgument(
        `sharedFolders[${i}].hostPath`,
        `must be an existing directory of the VirtualBox host: ${f.hostPath} is not`,
        undefined,
        { cause: error },
      );
    }
  }
}
