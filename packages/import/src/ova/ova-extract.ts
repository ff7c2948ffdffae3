import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VmkitError } from '@vmkit/core/spi';
import { extract } from 'tar-stream';
import { checkManifest, parseManifest } from './ova-manifest.js';
import { type OvfDescriptor, parseOvf } from './ovf-descriptor.js';

/** Most members an OVA may have. */
const MAX_MEMBERS = 64;
/** Largest OVF descriptor or manifest read into memory. */
const MAX_TEXT_BYTES = 1024 * 1024;
const SAFE_NAME = /^[A-Za-z0-9._+-][A-Za-z0-9._+ -]*$/;

/** An OVA unpacked into scratch: its descriptor and the disks, in DiskSection order. */
export interface ExtractedOva {
  readonly descriptor: OvfDescriptor;
  readonly disks: Array<{ file: string; format: string; href: string }>;
  readonly bytes: number;
  readonly sha256: string;
}

function refuse(message: string, rule = 'ova-member'): VmkitError {
  return new VmkitError('INVALID_ARGUMENT', `OVA: ${message}`, { details: { rule } });
}

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
  const ex = extract();
  const whole = createHash('sha256');
  let total = 0;
  source.on('data', (chunk: Buffer) => {
    whole.update(chunk);
    total += chunk.length;
    try {
      opts.onBytes?.(total);
    } catch (error) {
      source.destroy(error as Error);
    }
  });
  const feeding = pipeline(source, ex, { signal: opts.signal });
  const digests = new Map<string, { sha1: string; sha256: string }>();
  const texts = new Map<string, string>();
  let unpacked = 0;
  try {
    for await (const entry of ex) {
      const { name, type, size = 0 } = entry.header;
      if (name.startsWith('/') || name.split(/[\\/]/).includes('..'))
        throw refuse(`member "${name}" names a path outside the archive`);
      if (!SAFE_NAME.test(name)) throw refuse(`member name "${name}" is not a plain file name`);
      if (type !== 'file') throw refuse(`member "${name}" is a ${type}, not a regular file`);
      if (digests.has(name)) throw refuse(`member "${name}" appears twice`);
      if (digests.size >= MAX_MEMBERS) throw refuse(`more than ${MAX_MEMBERS} members`);
      unpacked += size;
      if (unpacked > opts.maxBytes)
        throw refuse(`members hold more than limits.maxImageBytes (${opts.maxBytes} bytes)`, 'ova-size');
      const isText = /\.(ovf|mf)$/i.test(name);
      if (isText && size > MAX_TEXT_BYTES)
        throw refuse(`${name} is larger than ${MAX_TEXT_BYTES} bytes`, 'ova-size');
      const sha1 = createHash('sha1');
      const sha256 = createHash('sha256');
      const chunks: Buffer[] = [];
      // Created exclusively: the folder is the task's own and new, so an existing file is an attack.
      const out = isText ? undefined : (await open(join(dir, name), 'wx', 0o600)).createWriteStream();
      try {
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          opts.signal.throwIfAborted();
          sha1.update(chunk);
          sha256.update(chunk);
          if (out) {
            if (!out.write(chunk)) await once(out, 'drain');
          } else chunks.push(chunk);
        }
      } finally {
        if (out)
          await new Promise<void>((resolve, reject) =>
            out.end((e?: Error | null) => (e ? reject(e) : resolve())),
          );
      }
      digests.set(name, { sha1: sha1.digest('hex'), sha256: sha256.digest('hex') });
      if (isText) texts.set(name, Buffer.concat(chunks).toString('utf8'));
    }
    await feeding;
  } catch (error) {
    source.destroy();
    await feeding.catch(() => {});
    throw error;
  }
  const ovfs = [...texts.keys()].filter((n) => /\.ovf$/i.test(n));
  if (ovfs.length !== 1)
    throw refuse(`has ${ovfs.length} .ovf descriptors; exactly one is needed`, 'ova-descriptor');
  const manifests = [...texts.keys()].filter((n) => /\.mf$/i.test(n));
  for (const mf of manifests) checkManifest(parseManifest(texts.get(mf)!), digests);
  const descriptor = parseOvf(texts.get(ovfs[0]!)!);
  const disks = descriptor.disks.map((d) => {
    if (!SAFE_NAME.test(d.href) || !digests.has(d.href))
      throw refuse(`the descriptor names disk "${d.href}", which is not a member`, 'ova-descriptor');
    return { file: join(dir, d.href), format: d.format, href: d.href };
  });
  return { descriptor, disks, bytes: total, sha256: whole.digest('hex') };
}
