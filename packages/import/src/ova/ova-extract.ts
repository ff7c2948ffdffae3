import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { refuseArchive, SAFE_NAME, unpackTar } from '../archive/tar-unpack.js';
import { checkManifest, parseManifest } from './ova-manifest.js';
import { type OvfDescriptor, parseOvf } from './ovf-descriptor.js';

/** An OVA unpacked into scratch: its descriptor and the disks, in DiskSection order. */
export interface ExtractedOva {
  readonly descriptor: OvfDescriptor;
  readonly disks: Array<{ file: string; format: string; href: string }>;
  readonly bytes: number;
  readonly sha256: string;
}

const refuse = (message: string, rule = 'member') => refuseArchive('ova', message, rule);

/**
 * Reads an OVA (a tar) as a stream: member names with `..`, `/` or other odd characters and
 * anything but regular files are refused; members are written to `dir` with their SHA-1 and
 * SHA-256; the `.ovf` descriptor is parsed for disks, CPUs and memory; a `.mf` manifest, when
 * present, must match every digest it lists. At most `maxBytes` are unpacked.
 */
export async function extractOva(
  source: Readable,
  dir: string,
  opts: { maxBytes: number; signal: AbortSignal; onBytes?: (n: number) => void },
): Promise<ExtractedOva> {
  const { digests, texts, bytes, sha256 } = await unpackTar(source, dir, {
    kind: 'ova',
    ...opts,
    isText: (name) => /\.(ovf|mf)$/i.test(name),
  });
  const ovfs = [...texts.keys()].filter((n) => /\.ovf$/i.test(n));
  if (ovfs.length !== 1)
    throw refuse(`has ${ovfs.length} .ovf descriptors; exactly one is needed`, 'descriptor');
  const manifests = [...texts.keys()].filter((n) => /\.mf$/i.test(n));
  for (const mf of manifests) checkManifest(parseManifest(texts.get(mf)!), digests);
  const descriptor = parseOvf(texts.get(ovfs[0]!)!);
  const disks = descriptor.disks.map((d) => {
    if (!SAFE_NAME.test(d.href) || !digests.has(d.href))
      throw refuse(`the descriptor names disk "${d.href}", which is not a member`, 'descriptor');
    return { file: join(dir, d.href), format: d.format, href: d.href };
  });
  return { descriptor, disks, bytes, sha256 };
}
