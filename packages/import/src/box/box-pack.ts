import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import type { ImportedHardware } from '../task-model.js';
import { type BoxProvider, boxMetadataJson } from './box-metadata.js';
import { boxOvf } from './box-ovf.js';
import { boxVagrantfile } from './vagrantfile-defaults.js';

/** Arguments of {@link packBox}. */
export interface PackBoxOptions {
  readonly provider: BoxProvider;
  /** The converted disk: qcow2 `box.img` (libvirt) or a streamOptimized VMDK (virtualbox). */
  readonly disk: string;
  /** The disk's virtual size in bytes. */
  readonly virtualSize: number;
  /** Name of the machine in the OVF (virtualbox). */
  readonly name: string;
  readonly hardware?: ImportedHardware;
  /** The box file to write (created exclusively, mode 0600). */
  readonly output: string;
  readonly signal: AbortSignal;
}

/**
 * Writes a Vagrant box as a plain tar (Vagrant unpacks tar and gzip'd tar alike): `metadata.json`,
 * a `Vagrantfile` with the image's memory and CPUs, and the disk — for libvirt `box.img` (qcow2,
 * with `format` and `virtual_size` in the metadata), for virtualbox an OVF descriptor beside the VMDK.
 */
export async function packBox(opts: PackBoxOptions): Promise<void> {
  const p = pack();
  const text = (name: string, body: string) =>
    new Promise<void>((resolve, reject) =>
      p.entry({ name, mode: 0o644 }, body, (e) => (e ? reject(e) : resolve())),
    );
  const diskName = basename(opts.disk);
  const diskBytes = (await stat(opts.disk)).size;
  const out = (await open(opts.output, 'wx', 0o600)).createWriteStream();
  const writing = pipeline(p, out, { signal: opts.signal });
  try {
    await text('metadata.json', boxMetadataJson(opts.provider, opts.virtualSize));
    await text('Vagrantfile', boxVagrantfile(opts.provider, opts.hardware));
    if (opts.provider === 'virtualbox')
      await text(
        'box.ovf',
        boxOvf({
          name: opts.name,
          disk: diskName,
          diskBytes,
          capacity: opts.virtualSize,
          ...(opts.hardware ? { hardware: opts.hardware } : {}),
        }),
      );
    const entry = p.entry({ name: diskName, size: diskBytes, mode: 0o644 });
    await pipeline(createReadStream(opts.disk), entry, { signal: opts.signal });
    p.finalize();
    await writing;
  } catch (error) {
    p.destroy(error as Error);
    await writing.catch(() => {});
    throw error;
  }
}
