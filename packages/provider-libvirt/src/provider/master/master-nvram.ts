import { findOvmf } from '../host/ovmf-firmware.js';
import type { LibvirtContext, LibvirtMasterData } from '../libvirt-context.js';
import type { MasterNames } from './build-state.js';

/**
 * An EFI master's own NVRAM: the raw pool volume `names.nvram` holding a copy of OVMF's empty
 * variable store, booted by the master's build domains (boot entries they write stay in it) and
 * copied into each node. `onCreating` runs before the volume is made, so a caller can record that
 * there is something to remove. Returns the volume's name.
 */
export async function createMasterNvram(
  ctx: LibvirtContext,
  names: MasterNames,
  onCreating: (volume: string) => void,
  signal?: AbortSignal,
): Promise<string> {
  const ovmf = await findOvmf();
  onCreating(names.nvram);
  await ctx.storage.createFromFile(names.nvram, ovmf.vars, 'raw', 0, signal ? { signal } : {});
  return names.nvram;
}

/** A master's data with its NVRAM volume (kept, and deleted, with its other volumes); as it is without one. */
export function withNvram(data: LibvirtMasterData, nvram: string | undefined): LibvirtMasterData {
  if (nvram === undefined) return data;
  return { ...data, nvramVolume: nvram, volumes: [...data.volumes, nvram] };
}
