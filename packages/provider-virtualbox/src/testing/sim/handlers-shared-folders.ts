import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { machine, mutable } from './handlers-machine.js';
import type { SimHandler } from './sim-call.js';
import { ResultCode, runtime, violation } from './sim-fault.js';
import { SharedFolderView } from './sim-model.js';

const isDirectory = (path: string) => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/**
 * IMachine's permanent shared folders and ISharedFolder, as VirtualBox 7.0 checks them: created
 * and removed on a mutable (session) machine, names unique per machine, the host path absolute
 * and an existing directory of the host (VBOX_E_FILE_ERROR otherwise).
 */
export const sharedFolderHandlers: Record<string, SimHandler> = {
  IMachine_getSharedFolders: (c) =>
    machine(c).settings.sharedFolders.map((f) => c.ref(new SharedFolderView(f))),
  IMachine_createSharedFolder(c) {
    const view = mutable(c);
    const [name, hostPath] = [c.str('name'), c.str('hostPath')];
    if (name === '' || name.includes('/') || name.includes('\\'))
      throw violation(ResultCode.E_INVALIDARG, `Invalid shared folder name '${name}'`);
    if (view.settings.sharedFolders.some((f) => f.name === name))
      throw violation(ResultCode.VBOX_E_OBJECT_IN_USE, `Shared folder named '${name}' already exists`);
    if (!isAbsolute(hostPath))
      throw violation(ResultCode.E_INVALIDARG, `Shared folder path '${hostPath}' is not absolute`);
    if (!isDirectory(hostPath))
      throw runtime(
        ResultCode.VBOX_E_FILE_ERROR,
        `Shared folder path '${hostPath}' does not exist on the host`,
      );
    view.settings.sharedFolders.push({
      name,
      hostPath,
      writable: c.bool('writable'),
      autoMount: c.bool('automount'),
      autoMountPoint: c.str('autoMountPoint'),
    });
  },
  IMachine_removeSharedFolder(c) {
    const s = mutable(c).settings;
    const name = c.str('name');
    const at = s.sharedFolders.findIndex((f) => f.name === name);
    if (at < 0)
      throw runtime(
        ResultCode.VBOX_E_OBJECT_NOT_FOUND,
        `Could not find a shared folder named '${name}'`,
        true,
      );
    s.sharedFolders.splice(at, 1);
  },
  ISharedFolder_getName: (c) => c.self<SharedFolderView>('ISharedFolder').folder.name,
  ISharedFolder_getHostPath: (c) => c.self<SharedFolderView>('ISharedFolder').folder.hostPath,
  ISharedFolder_getWritable: (c) => c.self<SharedFolderView>('ISharedFolder').folder.writable,
  ISharedFolder_getAutoMount: (c) => c.self<SharedFolderView>('ISharedFolder').folder.autoMount,
  ISharedFolder_getAutoMountPoint: (c) => c.self<SharedFolderView>('ISharedFolder').folder.autoMountPoint,
  ISharedFolder_getAccessible: (c) => isDirectory(c.self<SharedFolderView>('ISharedFolder').folder.hostPath),
};
