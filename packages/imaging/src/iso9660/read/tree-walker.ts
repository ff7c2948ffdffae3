import { throwIfAborted, VmkitError } from '@vmkit/core/spi';
import type { ByteSource } from './byte-source.js';
import { directoryRecords, parseDirectory, type RawRecord } from './directory-records.js';
import type { Iso9660FileInfo, IsoNamespace } from './iso-reader.js';
import { checkFileExtents, type IsoReadBudget, MAX_EXTENTS_PER_FILE } from './read-budget.js';
import { type RockRidgeInfo, readSystemUse } from './rock-ridge-reader.js';

const SECTOR = 2048;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

/** Reads a directory extent, refusing sizes no directory has. */
export async function readExtent(
  source: ByteSource,
  extent: { lba: number; size: number },
): Promise<Uint8Array> {
  if (extent.size > 64 * 1024 * 1024)
    throw new VmkitError('CORRUPT', `a directory of ${extent.size} bytes is not credible`);
  return source.read(extent.lba * SECTOR, extent.size);
}

/** Limits and budget of one walk of the directory tree. */
export interface WalkOptions {
  readonly maxEntries: number;
  readonly maxDepth: number;
  readonly signal: AbortSignal | undefined;
  readonly budget: IsoReadBudget;
}

/**
 * Walks an ISO 9660 directory tree in one namespace (Rock Ridge, Joliet or plain names), under
 * the reader's limits: entry count, depth, one read budget, abort; refuses names that could
 * escape the directory they are extracted into and directory extents that are not credible.
 */
export class TreeWalker {
  readonly #source: ByteSource;
  readonly #namespace: IsoNamespace;
  readonly #skip: number;
  readonly #maxEntries: number;
  readonly #maxDepth: number;
  readonly #signal: AbortSignal | undefined;
  readonly #budget: IsoReadBudget;
  readonly #files: Iso9660FileInfo[] = [];

  constructor(source: ByteSource, namespace: IsoNamespace, skip: number, options: WalkOptions) {
    this.#source = source;
    this.#namespace = namespace;
    this.#skip = skip;
    this.#maxEntries = options.maxEntries;
    this.#maxDepth = options.maxDepth;
    this.#signal = options.signal;
    this.#budget = options.budget;
  }

  async walk(root: { lba: number; size: number }): Promise<Iso9660FileInfo[]> {
    await this.#directory(root, '', 0);
    return this.#files;
  }

  async #directory(extent: { lba: number; size: number }, path: string, depth: number): Promise<void> {
    throwIfAborted(this.#signal, 'reading ISO 9660 image');
    if (depth > this.#maxDepth)
      throw new VmkitError('CORRUPT', `directories nest deeper than ${this.#maxDepth} at '${path}'`);
    const where = path === '' ? 'the root directory' : `directory '${path}'`;
    this.#budget.claimDirectory(extent, where);
    const records = directoryRecords(await readExtent(this.#source, extent), where);
    const seen = new Set<string>();
    for (let step = records.next(); !step.done; step = records.next()) {
      this.#budget.countRecord();
      const first = step.value;
      if (first.identifier.length === 1 && (first.identifier[0] === 0 || first.identifier[0] === 1)) continue;
      const extents = [{ lba: first.lba, size: first.size }];
      let last = first;
      while ((last.flags & 0x80) !== 0) {
        const more = records.next();
        if (more.done) break;
        this.#budget.countRecord();
        last = more.value;
        extents.push({ lba: last.lba, size: last.size });
        if (extents.length > MAX_EXTENTS_PER_FILE) break;
      }
      const rr =
        this.#namespace === 'rockridge'
          ? await readSystemUse(first.systemUse, this.#skip, this.#source, this.#budget)
          : undefined;
      if (rr?.relocated) continue;
      const name = this.#name(first, rr);
      checkEntryName(name, path);
      if (seen.has(name)) throw new VmkitError('CORRUPT', `duplicate entry '${name}' in ${where}`);
      seen.add(name);
      const full = path === '' ? name : `${path}/${name}`;
      if (this.#files.length >= this.#maxEntries)
        throw new VmkitError('CORRUPT', `more than ${this.#maxEntries} entries`);
      const mode = rr?.mode;
      const isLink = mode !== undefined ? (mode & S_IFMT) === S_IFLNK : rr?.target !== undefined;
      const isDir =
        !isLink &&
        ((first.flags & 0x02) !== 0 ||
          rr?.childLink !== undefined ||
          (mode !== undefined && (mode & S_IFMT) === S_IFDIR));
      let dirExtent = extents[0] as { lba: number; size: number };
      if (isDir && rr?.childLink !== undefined) dirExtent = await this.#relocatedExtent(rr.childLink);
      const type = isLink ? 'symlink' : isDir ? 'directory' : 'file';
      if (type === 'file') checkFileExtents(extents, this.#budget.imageSize, full);
      const size = type === 'file' ? extents.reduce((n, e) => n + e.size, 0) : 0;
      this.#files.push(
        Object.freeze({
          path: full,
          size,
          type,
          ...(isLink && rr?.target !== undefined ? { target: rr.target } : {}),
          ...(mode !== undefined ? { mode: mode & 0o7777 } : {}),
          mtime: rr?.mtime ?? first.time,
          extents: Object.freeze(type === 'file' ? extents : isDir ? [dirExtent] : []),
        }),
      );
      if (isDir) await this.#directory(dirExtent, full, depth + 1);
    }
  }

  async #relocatedExtent(lba: number): Promise<{ lba: number; size: number }> {
    const sector = await this.#source.read(lba * SECTOR, SECTOR);
    const dot = parseDirectory(sector.subarray(0, sector[0] ?? 0), 'a relocated directory')[0];
    if (!dot) throw new VmkitError('CORRUPT', `Rock Ridge child link to sector ${lba} has no directory`);
    return { lba: dot.lba, size: dot.size };
  }

  #name(record: RawRecord, rr: RockRidgeInfo | undefined): string {
    if (rr?.name !== undefined) return rr.name;
    let name: string;
    if (this.#namespace === 'joliet') {
      name = '';
      const id = record.identifier;
      for (let i = 0; i + 1 < id.length; i += 2)
        name += String.fromCharCode(((id[i] ?? 0) << 8) | (id[i + 1] ?? 0));
    } else {
      name = String.fromCharCode(...record.identifier);
    }
    name = name.replace(/;\d*$/, '');
    if (this.#namespace !== 'joliet' && (record.flags & 0x02) === 0) name = name.replace(/\.$/, '');
    return name;
  }
}

/** Refuses entry names that would escape the directory they are extracted into. */
function checkEntryName(name: string, parent: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\u0000')) {
    const where = parent === '' ? 'the root directory' : `'${parent}'`;
    throw new VmkitError(
      'CORRUPT',
      `refused entry name ${JSON.stringify(name)} in ${where}: it could escape the target directory`,
      {
        details: { name, parent },
      },
    );
  }
}
