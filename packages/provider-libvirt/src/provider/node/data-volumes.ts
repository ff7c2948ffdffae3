import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataVolumeSpec, OperationOptions } from '@vmkit/core/spi';
import { emitProgress, invalidArgument, throwIfAborted, VmkitError } from '@vmkit/core/spi';
import type { LibvirtContext } from '../libvirt-context.js';
import type { DomainDisk } from '../xml/domain-xml.js';

const MiB = 1024 * 1024;

/**
 * Creates a node's data volumes in the pool, in order, as extra virtio disks: a blank volume is
 * made by libvirt itself (sparse in a directory pool, nothing uploaded); a `vfat` one is written
 * with `writeFatToFile` and a raw one with `content` by `populateVolume`, each to a temporary file
 * in bounded memory, then uploaded through the stream API. Each volume's name is pushed to
 * `created` as soon as it exists, so the caller's rollback removes it. A spec the FAT writer
 * refuses (files that do not fit, a name FAT cannot hold) is `INVALID_ARGUMENT` naming
 * `dataVolumes[i]`.
 */
export async function createDataVolumes(
  ctx: LibvirtContext,
  volumes: readonly DataVolumeSpec[],
  domName: string,
  created: string[],
  options: OperationOptions = {},
  node?: string,
): Promise<DomainDisk[]> {
  const disks: DomainDisk[] = [];
  for (const [i, spec] of volumes.entries()) {
    throwIfAborted(options.signal, `data volume ${i} of ${domName}`);
    const name = `${domName}-data${i}.img`;
    const sizeBytes = spec.sizeMiB * MiB;
    if (spec.filesystem === undefined && spec.content === undefined) {
      await ctx.storage.create({ name, capacityBytes: sizeBytes, format: 'raw' });
      created.push(name);
    } else {
      await uploadBuilt(ctx, name, sizeBytes, created, options, (file) =>
        writeVolumeFile(spec, i, file, options),
      );
    }
    disks.push({ pool: ctx.storage.name, volume: name, format: 'raw', role: 'disk' });
    emitProgress(options.onProgress, {
      phase: 'clone',
      ...(node ? { node } : {}),
      message: `data volume ${i} (${spec.sizeMiB} MiB${spec.filesystem ? `, ${spec.filesystem}` : ''}) created`,
    });
  }
  return disks;
}

/** Writes a data volume's image to `file`: FAT with its files and label, or raw content. */
async function writeVolumeFile(
  spec: DataVolumeSpec,
  index: number,
  file: string,
  options: OperationOptions,
): Promise<void> {
  const { populateVolume, writeFatToFile } = await import('@vmkit/imaging');
  const signal = options.signal ? { signal: options.signal } : {};
  try {
    if (spec.filesystem === 'vfat') {
      const entries = Object.entries(spec.files ?? {}).map(([path, content]) => ({ path, content }));
      await writeFatToFile(entries, file, {
        label: spec.label ?? 'DATA',
        sizeBytes: spec.sizeMiB * MiB,
        ...signal,
      });
    } else {
      await populateVolume(file, spec.sizeMiB * MiB, spec.content ?? new Uint8Array(), signal);
    }
  } catch (error) {
    if (VmkitError.is(error, 'INVALID_ARGUMENT')) {
      throw invalidArgument(`dataVolumes[${index}]`, error.message, undefined, { cause: error });
    }
    throw error;
  }
}

async function uploadBuilt(
  ctx: LibvirtContext,
  name: string,
  sizeBytes: number,
  created: string[],
  options: OperationOptions,
  build: (file: string) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-data-volume-'));
  try {
    const file = join(dir, 'volume.img');
    await build(file);
    await ctx.storage.createFromFile(
      name,
      file,
      'raw',
      sizeBytes,
      options.signal ? { signal: options.signal } : {},
    );
    created.push(name);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
