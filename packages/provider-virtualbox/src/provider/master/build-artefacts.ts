import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type DiskBytes, invalidArgument, type ProviderArtefact, VmkitError } from '@vmkit/core/spi';
import { inspectImage } from '@vmkit/imaging';
import type * as vbox from 'virtualbox-soap';
import type { VboxApi } from '../../soap/connection.js';
import { hasResult, isNotFound, VBOX_RESULT } from '../../soap/errors.js';
import type { NodeRecord } from '../node/node-records.js';
import { masterMachineName, settingsFile, type VboxContext } from '../virtualbox-context.js';
import { deleteMasterMachine } from './master-build.js';

/** Core's master names: `vmkit-<image>-<8 hex of the spec hash>-<4 random hex>`. */
const MASTER_NAME = 'vmkit-[a-z0-9][a-z0-9._-]*-[0-9a-f]{8}-[0-9a-f]{4}';

/**
 * The files a build writes directly in the machine folder, after `<prefix>m-<master name>`: its
 * disk (`.vdi`, a downloaded `.img`), a downloaded ISO (`.iso`), the remastered installer
 * (`-installer.iso`), a `bootIso` master's ISO (`-boot.iso`) and the post-install drive
 * (`-post-install-<16 hex>.iso`).
 */
const FILE_SUFFIX = '(\\.vdi|\\.img|\\.iso|-installer\\.iso|-boot\\.iso|-post-install-[0-9a-f]{16}\\.iso)';

function patterns(prefix: string): { machine: RegExp; file: RegExp } {
  const head = masterMachineName(prefix, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    machine: new RegExp(`^${head}(${MASTER_NAME})$`),
    file: new RegExp(`^${head}(${MASTER_NAME})${FILE_SUFFIX}$`),
  };
}

/** When a file was last written (ISO 8601), and its sizes: a disk's capacity from its header. */
async function fileFacts(path: string): Promise<{ createdAt: string; bytes: DiskBytes } | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const header = path.endsWith('.iso') ? undefined : await inspectImage(path).catch(() => undefined);
  return {
    createdAt: info.mtime.toISOString(),
    bytes: { allocatedBytes: info.size, virtualBytes: header?.virtualSize ?? info.size },
  };
}

/**
 * Every artefact of master builds: master machines (`<prefix>m-<master name>`, registered, made
 * by a build or an import) and the files builds write in the machine folder (see
 * {@link FILE_SUFFIX}). The master id of each is its machine name (what a master reference's
 * `id` is); an artefact of a master some node was cloned from (or boots from) is in use.
 */
export async function listBuildArtefacts(
  ctx: VboxContext,
  api: VboxApi,
  nodes: readonly NodeRecord[],
): Promise<ProviderArtefact[]> {
  const { machine: machinePattern, file: filePattern } = patterns(ctx.options.namePrefix);
  const used = new Set(nodes.map((n) => n.meta.master));
  const out: ProviderArtefact[] = [];
  for (const machine of await api.vbox.getMachines()) {
    const name = await machine.getName().catch(() => '');
    const masterName = machinePattern.exec(name)?.[1];
    if (!masterName) continue;
    const made = await stat(settingsFile(ctx, name)).catch(() => undefined);
    out.push({
      id: name,
      kind: 'machine',
      masterName,
      masterId: name,
      inUse: used.has(name),
      ...(made ? { createdAt: made.mtime.toISOString() } : {}),
    });
  }
  for (const file of await readdir(ctx.options.machineFolder).catch(() => [] as string[])) {
    const masterName = filePattern.exec(file)?.[1];
    if (!masterName) continue;
    const facts = await fileFacts(join(ctx.options.machineFolder, file));
    if (!facts) continue;
    const masterId = masterMachineName(ctx.options.namePrefix, masterName);
    out.push({ id: file, kind: 'file', masterName, masterId, inUse: used.has(masterId), ...facts });
  }
  return out;
}

/**
 * Removes one listed artefact; gone is not an error. A master machine goes with the disks inside
 * the machine folder it holds (VirtualBox refuses while a linked clone depends on it: the error
 * propagates); a file is closed as a medium first (refused while a machine has it attached) and
 * then deleted. Only names a build makes, with this provider's prefix, are touched.
 */
export async function removeBuildArtefact(ctx: VboxContext, artefact: ProviderArtefact): Promise<void> {
  const prefix = ctx.options.namePrefix;
  if (typeof artefact?.id !== 'string' || !artefact.id.startsWith(prefix))
    throw invalidArgument('artefact.id', `must start with this provider's prefix ${prefix}`);
  const { machine, file } = patterns(prefix);
  if (artefact.kind === 'machine' && machine.test(artefact.id))
    return deleteMasterMachine(ctx, artefact.id, []);
  if (artefact.kind === 'file' && file.test(artefact.id)) {
    const path = join(ctx.options.machineFolder, artefact.id);
    const type = (artefact.id.endsWith('.iso') ? 'DVD' : 'HardDisk') as vbox.DeviceType;
    await ctx.conn.run(
      `closing ${path}`,
      async (api) => {
        let medium: vbox.IMedium;
        try {
          medium = await api.vbox.openMedium(path, type, 'ReadOnly' as vbox.AccessMode, false);
        } catch (error) {
          // Not registered and not openable (gone, or not a medium VirtualBox reads): nothing to close.
          if (
            isNotFound(error) ||
            hasResult(error, VBOX_RESULT.FILE_ERROR) ||
            hasResult(error, VBOX_RESULT.IPRT_ERROR)
          )
            return;
          throw error;
        }
        try {
          await medium.close();
        } catch (error) {
          if (hasResult(error, VBOX_RESULT.OBJECT_IN_USE))
            throw new VmkitError('CONFLICT', `${artefact.id} is attached to a machine: not removed`, {
              cause: error,
            });
          throw error;
        }
      },
      true,
    );
    await rm(path, { force: true });
    return;
  }
  throw invalidArgument('artefact', `${artefact.kind} ${artefact.id} is not an artefact of a vmkit build`);
}
