import { refuseArchive } from '../archive/tar-unpack.js';

/** The Vagrant providers whose boxes vmkit reads and writes. */
export type BoxProvider = 'libvirt' | 'virtualbox';

/** What vmkit reads from a box's `metadata.json`. */
export interface BoxMetadata {
  readonly provider: BoxProvider;
  /** libvirt: the disks, in order (`box.img` when the metadata lists none), each qcow2. */
  readonly disks: ReadonlyArray<{ readonly path: string; readonly format: 'qcow2' }>;
  /** libvirt: `virtual_size` in GiB, when given. */
  readonly virtualSizeGiB?: number;
}

const refuse = (message: string) => refuseArchive('box', `metadata.json: ${message}`, 'metadata');

/** `metadata.json` as vmkit writes it for a box of `provider` (`virtualSize` in bytes). */
export function boxMetadataJson(provider: BoxProvider, virtualSize: number): string {
  const meta =
    provider === 'libvirt'
      ? { provider, format: 'qcow2', virtual_size: Math.max(1, Math.ceil(virtualSize / 1024 ** 3)) }
      : { provider };
  return `${JSON.stringify(meta, null, 2)}\n`;
}

/**
 * Parses and checks a box's `metadata.json`: its `provider` must be `libvirt` or `virtualbox`
 * (and `expected` when given); a libvirt box's `format` must be `qcow2` (the inspector then checks
 * that the disk really is), its `virtual_size` a positive integer, its `disks` plain member names.
 */
export function parseBoxMetadata(text: string, expected?: BoxProvider): BoxMetadata {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw refuse('is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw refuse('must be a JSON object');
  const m = raw as Record<string, unknown>;
  const provider = m.provider;
  if (provider !== 'libvirt' && provider !== 'virtualbox')
    throw refuse(`provider "${String(provider)}" is not libvirt or virtualbox`);
  if (expected && provider !== expected)
    throw refuse(`provider is ${provider}, but the source asks for ${expected}`);
  if (provider === 'virtualbox') return { provider, disks: [] };
  if (m.format !== undefined && m.format !== 'qcow2')
    throw refuse(`format "${String(m.format)}" is not qcow2 (a libvirt box holds qcow2 disks)`);
  const size = m.virtual_size;
  if (size !== undefined && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1))
    throw refuse('virtual_size must be a positive whole number of GiB');
  const listed = m.disks;
  if (listed !== undefined && (!Array.isArray(listed) || listed.length === 0))
    throw refuse('disks must be a non-empty list');
  const disks = (listed ?? [{ path: 'box.img' }]).map((d: unknown, i: number) => {
    const entry = (typeof d === 'object' && d !== null ? d : {}) as Record<string, unknown>;
    if (typeof entry.path !== 'string') throw refuse(`disks[${i}].path must be a member name`);
    if (entry.format !== undefined && entry.format !== 'qcow2')
      throw refuse(`disks[${i}].format "${String(entry.format)}" is not qcow2`);
    return { path: entry.path, format: 'qcow2' as const };
  });
  return { provider, disks, ...(typeof size === 'number' ? { virtualSizeGiB: size } : {}) };
}
