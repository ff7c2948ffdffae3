import { mkdir, stat, statfs } from 'node:fs/promises';
import { assertFreeSpace, type CloneSpec, GROWING_VOLUME_FLOOR_BYTES, type SpaceNeed } from '@vmkit/core/spi';
import type { VboxMasterData } from '../master/master-build.js';
import type { VboxContext } from '../virtualbox-context.js';

/**
 * The early free-space check of the VirtualBox provider, on its machine folder (a folder of this
 * host, since vboxwebsrv runs here): `statfs` gives the free bytes, core's `assertFreeSpace`
 * refuses with the `no-space` error (`details.field: 'machineFolder'`) when `needs` do not fit.
 */
export async function assertMachineFolderFits(ctx: VboxContext, needs: readonly SpaceNeed[]): Promise<void> {
  const folder = ctx.options.machineFolder;
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const s = await statfs(folder);
  assertFreeSpace(
    { kind: 'machine folder', name: folder, field: 'machineFolder' },
    s.bavail * s.bsize,
    needs,
  );
}

/**
 * What a clone writes into the machine folder: a linked clone's differencing disk grows as the
 * guest writes (the floor); a full clone copies the master's disk (its file's size).
 */
export async function cloneNeeds(spec: CloneSpec, name: string): Promise<SpaceNeed[]> {
  const data = spec.master.data as Partial<VboxMasterData> | undefined;
  if (data?.bootIso !== undefined) return [];
  if (spec.linked) return [{ what: `differencing disk of ${name}`, bytes: GROWING_VOLUME_FLOOR_BYTES }];
  const bytes =
    typeof data?.disk === 'string'
      ? await stat(data.disk).then(
          (s) => s.size,
          () => 0,
        )
      : 0;
  return [{ what: `full copy of the master disk for ${name}`, bytes }];
}
