import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { open, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline as pipelineCb, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { VmkitError } from '@vmkit/core/spi';
import { extract } from 'tar-stream';
import { expandGnuSparse } from './gnu-sparse.js';

/** Most members an archive may have. */
const MAX_MEMBERS = 64;
/** Largest text member (descriptor, manifest, metadata) read into memory. */
const MAX_TEXT_BYTES = 1024 * 1024;
/** A plain file name: no separators, no leading dot-dot, printable. */
export const SAFE_NAME = /^[A-Za-z0-9._+-][A-Za-z0-9._+ -]*$/;

/** Which archive is read: names the messages (`OVA:`, `Vagrant box:`) and the rules (`ova-member`, `box-member`). */
export type ArchiveKind = 'ova' | 'box';

/** Options of {@link unpackTar}. */
export interface UnpackOptions {
  readonly kind: ArchiveKind;
  /** Most bytes the members may hold together (`limits.maxImageBytes`). */
  readonly maxBytes: number;
  readonly signal: AbortSignal;
  /** Bytes of the (possibly compressed) source read so far. */
  readonly onBytes?: (n: number) => void;
  /** Members kept in memory as text rather than written to `dir`. */
  readonly isText: (name: string) => boolean;
  /**
   * Vagrant's layout: a gzip'd tar is unpacked too, GNU sparse members (`tar -S`) are read with
   * their holes as zeros, a leading `./` is dropped, directories are passed over, and files in
   * sub-folders are read (counted) but not kept.
   */
  readonly loose?: boolean;
}

/** What {@link unpackTar} found: digests of the files written, the text members, and the source's size and hash. */
export interface UnpackedTar {
  readonly digests: ReadonlyMap<string, { sha1: string; sha256: string }>;
  readonly texts: ReadonlyMap<string, string>;
  readonly bytes: number;
  readonly sha256: string;
}

const LABEL: Record<ArchiveKind, string> = { ova: 'OVA', box: 'Vagrant box' };

/** A refusal of an archive, naming the rule (`<kind>-member`, `<kind>-size`, ...). */
export function refuseArchive(kind: ArchiveKind, message: string, rule = 'member'): VmkitError {
  return new VmkitError('INVALID_ARGUMENT', `${LABEL[kind]}: ${message} (rule ${kind}-${rule})`, {
    details: { rule: `${kind}-${rule}` },
  });
}

/** Passes a gzip stream through gunzip, anything else as it is (told by the first two bytes). */
async function* gunzipIfNeeded(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const rest = (async function* () {
    yield first.value;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
  })();
  if (first.value[0] !== 0x1f || first.value[1] !== 0x8b) return yield* rest;
  yield* pipelineCb(Readable.from(rest), createGunzip(), () => {}) as AsyncIterable<Buffer>;
}

/**
 * Reads a tar as a stream into `dir` (the task's own new folder; files are created exclusively,
 * mode 0600): member names with `..`, a leading `/` or other odd characters, links, devices,
 * duplicates, more than 64 members and more than `maxBytes` in all are refused, naming the rule.
 */
export async function unpackTar(source: Readable, dir: string, opts: UnpackOptions): Promise<UnpackedTar> {
  const { kind } = opts;
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
  const feeding = opts.loose
    ? pipeline(source, gunzipIfNeeded, expandGnuSparse(opts.maxBytes), ex, { signal: opts.signal })
    : pipeline(source, ex, { signal: opts.signal });
  const digests = new Map<string, { sha1: string; sha256: string }>();
  const texts = new Map<string, string>();
  let unpacked = 0;
  let members = 0;
  try {
    for await (const entry of ex) {
      const { type, size = 0 } = entry.header;
      const raw = entry.header.name;
      const name = opts.loose ? raw.replace(/^(?:\.(?:\/|$))+/, '').replace(/\/$/, '') : raw;
      // The archive's own top folder (`./`), as `tar -C folder .` writes it.
      if (opts.loose && name === '' && type === 'directory') {
        entry.resume();
        continue;
      }
      if (raw.startsWith('/') || raw.split(/[\\/]/).includes('..'))
        throw refuseArchive(kind, `member "${raw}" names a path outside the archive`);
      const parts = name.split('/');
      const nested = opts.loose && parts.length > 1;
      if (!(opts.loose ? parts : [name]).every((p) => SAFE_NAME.test(p)))
        throw refuseArchive(kind, `member name "${raw}" is not a plain file name`);
      if (++members > MAX_MEMBERS) throw refuseArchive(kind, `more than ${MAX_MEMBERS} members`);
      const skipped = opts.loose && type === 'directory';
      if (type !== 'file' && !skipped)
        throw refuseArchive(
          kind,
          `member "${raw}" is a ${type ?? 'member of an unknown type'}, not a regular file`,
        );
      if (digests.has(name) || texts.has(name)) throw refuseArchive(kind, `member "${raw}" appears twice`);
      unpacked += size;
      if (unpacked > opts.maxBytes)
        throw refuseArchive(
          kind,
          `members hold more than limits.maxImageBytes (${opts.maxBytes} bytes)`,
          'size',
        );
      const isText = opts.isText(name);
      if (isText && size > MAX_TEXT_BYTES)
        throw refuseArchive(kind, `${name} is larger than ${MAX_TEXT_BYTES} bytes`, 'size');
      // A member's size is known before its bytes: one that cannot fit is refused before it fills
      // the disk (a gzip'd run of zeros or a sparse member expand far beyond the archive's bytes).
      if (!isText && !skipped && !nested) {
        const free = await freeBytes(dir);
        if (size > free - FREE_SPACE_MARGIN)
          throw refuseArchive(
            kind,
            `member "${raw}" holds ${size} bytes but the scratch folder has ${free} bytes free`,
            'size',
          );
      }
      if (skipped || nested) {
        entry.resume();
        await once(entry, 'end');
        continue;
      }
      digests.set(
        name,
        await writeMember(entry as AsyncIterable<Buffer>, join(dir, name), isText, opts.signal, texts, name),
      );
    }
    await feeding;
  } catch (error) {
    source.destroy();
    await feeding.catch(() => {});
    throw error;
  }
  return { digests, texts, bytes: total, sha256: whole.digest('hex') };
}

/** Space kept free on the scratch file system after a member is written. */
const FREE_SPACE_MARGIN = 256 * 1024 * 1024;

/** Bytes an unprivileged writer may still use on the file system of `dir`. */
async function freeBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}

async function writeMember(
  entry: AsyncIterable<Buffer>,
  file: string,
  isText: boolean,
  signal: AbortSignal,
  texts: Map<string, string>,
  name: string,
): Promise<{ sha1: string; sha256: string }> {
  const sha1 = createHash('sha1');
  const sha256 = createHash('sha256');
  const chunks: Buffer[] = [];
  // Created exclusively: the folder is the task's own and new, so an existing file is an attack.
  const out = isText ? undefined : (await open(file, 'wx', 0o600)).createWriteStream();
  try {
    for await (const chunk of entry) {
      signal.throwIfAborted();
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
  if (isText) texts.set(name, Buffer.concat(chunks).toString('utf8'));
  return { sha1: sha1.digest('hex'), sha256: sha256.digest('hex') };
}
