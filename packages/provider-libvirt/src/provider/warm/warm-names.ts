import { type MasterRef, masterRefError, type WarmStateRef } from '@vmkit/core/spi';
import type { ResolvedLibvirtProviderOptions } from '../libvirt-provider-options.js';

/** A warm state's generation: 12 hex digits (never the `-8hex-4hex` ending of a master name). */
const GENERATION = /^[0-9a-f]{12}$/;

/** The data of a libvirt {@link WarmStateRef}. */
export interface LibvirtWarmData {
  readonly [key: string]: unknown;
  readonly pool: string;
  /** The master volume the state was saved from. */
  readonly master: string;
  /** The state's disk volume (the template's disk as saved; base of every clone's overlay). */
  readonly disk: string;
  /** The state image volume. */
  readonly state: string;
}

/** The prefix of every warm volume of a master: `<master base>.warm-`. */
export function warmPrefix(masterVolume: string): string {
  return `${masterVolume.replace(/\.qcow2$/, '')}.warm-`;
}

/** The volumes of one warm state of `masterVolume`. */
export function warmNames(masterVolume: string, generation: string): { disk: string; state: string } {
  const base = `${warmPrefix(masterVolume)}${generation}`;
  return { disk: `${base}.qcow2`, state: `${base}.state` };
}

/**
 * Checks a warm state reference read back from the store (untrusted) against the names this
 * provider gives: the configured pool, volumes named after `master` (itself a checked master
 * reference) and one generation. `CORRUPT` naming the field otherwise.
 */
export function checkWarmRef(
  options: ResolvedLibvirtProviderOptions,
  ref: WarmStateRef,
  master: MasterRef,
): LibvirtWarmData {
  const data = (ref?.data ?? {}) as Record<string, unknown>;
  if (!master.id.endsWith('.qcow2')) throw masterRefError('warm.state', 'needs a disk master');
  const prefix = warmPrefix(master.id);
  const id = typeof ref?.id === 'string' ? ref.id : '';
  if (!id.startsWith(prefix) || !id.endsWith('.state'))
    throw masterRefError('warm.state.id', `must be a state image of master ${master.id}`);
  const generation = id.slice(prefix.length, -'.state'.length);
  if (!GENERATION.test(generation))
    throw masterRefError('warm.state.id', 'must end in a 12-digit generation');
  const names = warmNames(master.id, generation);
  if (data.pool !== options.pool) throw masterRefError('warm.state.data.pool', `must be ${options.pool}`);
  if (data.master !== master.id) throw masterRefError('warm.state.data.master', `must be ${master.id}`);
  if (data.disk !== names.disk) throw masterRefError('warm.state.data.disk', `must be ${names.disk}`);
  if (data.state !== names.state) throw masterRefError('warm.state.data.state', `must be ${names.state}`);
  return { pool: options.pool, master: master.id, disk: names.disk, state: names.state };
}
