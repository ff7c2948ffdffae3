import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { refuseArchive, SAFE_NAME, unpackTar } from '../archive/tar-unpack.js';
import { parseOvf } from '../ova/ovf-descriptor.js';
import type { ImportedHardware } from '../task-model.js';
import { type BoxProvider, parseBoxMetadata } from './box-metadata.js';
import { vagrantfileHardware } from './vagrantfile-defaults.js';

/** A Vagrant box unpacked into scratch: its provider, its disks in boot order, and its hardware defaults. */
export interface ExtractedBox {
  readonly provider: BoxProvider;
  readonly disks: Array<{ file: string; format: string; href: string }>;
  readonly hardware: ImportedHardware;
  readonly bytes: number;
  readonly sha256: string;
}

const refuse = (message: string) => refuseArchive('box', message, 'layout');

/**
 * Reads a Vagrant box (a tar, gzip'd or not) as a stream into `dir`, under the rules of OVA
 * members (no traversal, no links, at most `maxBytes`), then checks `metadata.json` (provider
 * `libvirt`: qcow2 disks, `box.img` by default; `virtualbox`: one OVF descriptor and its disks) and
 * reads the memory and CPUs of the `Vagrantfile` (never run; see {@link vagrantfileHardware}), which
 * override the OVF's.
 */
export async function extractBox(
  source: Readable,
  dir: string,
  opts: { maxBytes: number; signal: AbortSignal; onBytes?: (n: number) => void; provider?: BoxProvider },
): Promise<ExtractedBox> {
  const { digests, texts, bytes, sha256 } = await unpackTar(source, dir, {
    kind: 'box',
    maxBytes: opts.maxBytes,
    signal: opts.signal,
    loose: true,
    ...(opts.onBytes ? { onBytes: opts.onBytes } : {}),
    isText: (name) => name === 'metadata.json' || name === 'Vagrantfile' || /\.ovf$/i.test(name),
  });
  const metaText = texts.get('metadata.json');
  if (metaText === undefined) throw refuse('has no metadata.json');
  const meta = parseBoxMetadata(metaText, opts.provider);
  const fromVagrantfile = vagrantfileHardware(texts.get('Vagrantfile') ?? '');
  const member = (href: string, format: string) => {
    if (!SAFE_NAME.test(href) || !digests.has(href) || texts.has(href))
      throw refuse(`names disk "${href}", which is not a member`);
    return { file: join(dir, href), format, href };
  };
  if (meta.provider === 'libvirt')
    return {
      provider: 'libvirt',
      disks: meta.disks.map((d) => member(d.path, d.format)),
      hardware: fromVagrantfile,
      bytes,
      sha256,
    };
  const ovfs = [...texts.keys()].filter((n) => /\.ovf$/i.test(n));
  if (ovfs.length !== 1) throw refuse(`has ${ovfs.length} .ovf descriptors; a virtualbox box needs one`);
  const descriptor = parseOvf(texts.get(ovfs[0]!)!);
  return {
    provider: 'virtualbox',
    disks: descriptor.disks.map((d) => member(d.href, d.format)),
    hardware: { ...descriptor.hardware, ...fromVagrantfile },
    bytes,
    sha256,
  };
}
