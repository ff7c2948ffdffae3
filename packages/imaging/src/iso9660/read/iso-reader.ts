import { integerOption, invalidArgument, throwIfAborted, VmkitError } from '@vmkit/core/spi';
import { type ByteSource, fileSource, memorySource } from './byte-source.js';
import { readDescriptors, type VolumeDescriptorInfo } from './descriptors.js';
import { directoryRecords, parseDirectory, type RawRecord } from './directory-records.js';
import { type BootCatalog, readBootCatalog } from './el-torito.js';
import { checkFileExtents, IsoReadBudget, MAX_EXTENTS_PER_FILE } from './read-budget.js';
import { type RockRidgeInfo, readSystemUse } from './rock-ridge-reader.js';

const SECTOR = 2048;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

/** Which set of names a reader uses. */
export type IsoNamespace = 'rockridge' | 'joliet' | 'plain';

/** Options of {@link readIso9660}. */
export interface ReadIso9660Options {
  /** Names to read: Rock Ridge, then Joliet, then plain ECMA-119 when `auto` (default). */
  readonly namespace?: 'auto' | IsoNamespace;
  /** Most entries listed before the image is judged hostile (a positive integer, default 1,000,000). */
  readonly maxEntries?: number;
  /** Deepest directory nesting followed (a positive integer, default 1024). */
  readonly maxDepth?: number;
  /** Stops the listing. */
  readonly signal?: AbortSignal;
}

/** One entry of an ISO 9660 image. */
export interface Iso9660FileInfo {
  /** Path, `/`-separated, without a leading slash. */
  readonly path: string;
  /** Size in bytes (0 for directories and symlinks). */
  readonly size: number;
  /** What the entry is. */
  readonly type: 'file' | 'directory' | 'symlink';
  /** Symlink target (Rock Ridge). */
  readonly target?: string;
  /** POSIX permission bits (Rock Ridge). */
  readonly mode?: number;
  /** Modification time (Rock Ridge TF, else the directory record date). */
  readonly mtime: Date;
  /** Extents holding the data (several for multi-extent files). */
  readonly extents: ReadonlyArray<{ readonly lba: number; readonly size: number }>;
}

/** An ISO 9660 image opened for reading by {@link readIso9660}. */
export interface Iso9660Reader {
  /** Volume identifier of the primary descriptor. */
  readonly volumeId: string;
  /** The names in use. */
  readonly namespace: IsoNamespace;
  /** True when the image carries Rock Ridge entries. */
  readonly rockRidge: boolean;
  /** The primary volume descriptor. */
  readonly primary: VolumeDescriptorInfo;
  /** The Joliet supplementary volume descriptor, if any. */
  readonly joliet?: VolumeDescriptorInfo;
  /** The El Torito boot catalogue, if any. */
  readonly bootCatalog?: BootCatalog;
  /** Every entry (root excluded), parents before children. */
  readonly files: readonly Iso9660FileInfo[];
  /** Reads a file's bytes; `NOT_FOUND` when absent, `INVALID_ARGUMENT` when not a regular file. */
  readFile(path: string): Promise<Uint8Array>;
}

/**
 * Opens an ISO 9660 image (bytes, or a path read on demand) and lists its entries with Rock Ridge,
 * Joliet or plain names. Entry names that would escape a target directory on extraction (`.`,
 * `..`, names with `/` or NUL) and malformed structures are refused with `CORRUPT`, as are images
 * that would make the reader do more work than their size warrants: directory extents that overlap
 * ones already read, more directory bytes than four times the image, more records than
 * `maxEntries` allows, re-used or excessive SUSP continuation areas, and files whose extents
 * overlap, are too many, or add up to more than the image.
 */
export async function readIso9660(
  source: Uint8Array | string,
  options: ReadIso9660Options = {},
): Promise<Iso9660Reader> {
  const namespaceOption = options.namespace ?? 'auto';
  if (!['auto', 'rockridge', 'joliet', 'plain'].includes(namespaceOption)) {
    throw invalidArgument('options.namespace', "must be 'auto', 'rockridge', 'joliet' or 'plain'");
  }
  const maxEntries = positiveInteger(options.maxEntries, 'options.maxEntries', 1_000_000);
  const maxDepth = positiveInteger(options.maxDepth, 'options.maxDepth', 1024);
  let bytes: ByteSource;
  if (source instanceof Uint8Array) bytes = memorySource(source);
  else if (typeof source === 'string') bytes = await fileSource(source);
  else throw invalidArgument('source', 'must be a Uint8Array or a file path');
  try {
    const set = await readDescriptors(bytes);
    const bootCatalog =
      set.bootCatalogLba !== undefined ? await readBootCatalog(bytes, set.bootCatalogLba) : undefined;
    const budget = new IsoReadBudget(bytes.size, maxEntries);
    const rootSector = await readExtent(bytes, {
      lba: set.primary.root.lba,
      size: Math.min(SECTOR, set.primary.root.size),
    });
    const dot = directoryRecords(rootSector, 'the root directory').next().value as RawRecord | undefined;
    const rootInfo = dot ? await readSystemUse(dot.systemUse, 0, bytes, budget) : undefined;
    const hasRockRidge = rootInfo?.sp !== undefined;
    const namespace = pickNamespace(namespaceOption, hasRockRidge, set.joliet !== undefined);
    const walker = new TreeWalker(bytes, namespace, rootInfo?.sp?.skip ?? 0, {
      maxEntries,
      maxDepth,
      signal: options.signal,
      budget,
    });
    const descriptor = namespace === 'joliet' ? (set.joliet as VolumeDescriptorInfo) : set.primary;
    const files = await walker.walk(descriptor.root);
    const byPath = new Map(files.map((f) => [f.path, f]));
    const reopen = typeof source === 'string' ? () => fileSource(source) : () => Promise.resolve(bytes);
    return Object.freeze({
      volumeId: set.primary.volumeId,
      namespace,
      rockRidge: hasRockRidge,
      primary: set.primary,
      ...(set.joliet ? { joliet: set.joliet } : {}),
      ...(bootCatalog ? { bootCatalog } : {}),
      files: Object.freeze(files),
      readFile: (path: string) => readFileData(byPath, path, reopen),
    });
  } finally {
    if (typeof source === 'string') await bytes.close();
  }
}

function pickNamespace(option: string, rockRidge: boolean, joliet: boolean): IsoNamespace {
  if (option === 'rockridge' && !rockRidge)
    throw new VmkitError('UNSUPPORTED', 'the image has no Rock Ridge entries');
  if (option === 'joliet' && !joliet)
    throw new VmkitError('UNSUPPORTED', 'the image has no Joliet volume descriptor');
  if (option !== 'auto') return option as IsoNamespace;
  return rockRidge ? 'rockridge' : joliet ? 'joliet' : 'plain';
}

function positiveInteger(value: unknown, field: string, fallback: number): number {
  return integerOption(field, value, fallback);
}

async function readExtent(source: ByteSource, extent: { lba: number; size: number }): Promise<Uint8Array> {
  if (extent.size > 64 * 1024 * 1024)
    throw new VmkitError('CORRUPT', `a directory of ${extent.size} bytes is not credible`);
  return source.read(extent.lba * SECTOR, extent.size);
}

async function readFileData(
  byPath: Map<string, Iso9660FileInfo>,
  path: string,
  open: () => Promise<ByteSource>,
): Promise<Uint8Array> {
  if (typeof path !== 'string') throw invalidArgument('path', 'must be a string');
  const key = path.replace(/^\/+/, '').replace(/\/+$/, '');
  const entry = byPath.get(key);
  if (!entry) throw new VmkitError('NOT_FOUND', `no entry '${key}' in the image`, { details: { path: key } });
  if (entry.type !== 'file') throw invalidArgument('path', `'${key}' is a ${entry.type}, not a regular file`);
  const source = await open();
  try {
    checkFileExtents(entry.extents, source.size, key);
    for (const extent of entry.extents) {
      if (extent.lba * SECTOR + extent.size > source.size) {
        throw new VmkitError('CORRUPT', `'${key}' has an extent beyond the end of the image`, {
          details: { path: key },
        });
      }
    }
    const out = new Uint8Array(entry.size);
    let off = 0;
    for (const extent of entry.extents) {
      out.set(await source.read(extent.lba * SECTOR, extent.size), off);
      off += extent.size;
    }
    return out;
  } finally {
    await source.close();
  }
}

interface WalkOptions {
  readonly maxEntries: number;
  readonly maxDepth: number;
  readonly signal: AbortSignal | undefined;
  readonly budget: IsoReadBudget;
}

class TreeWalker {
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
