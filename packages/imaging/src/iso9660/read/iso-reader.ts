import { integerOption, invalidArgument, VmkitError } from '@vmkit/core/spi';
import { type ByteSource, fileSource, memorySource } from './byte-source.js';
import { readDescriptors, type VolumeDescriptorInfo } from './descriptors.js';
import { directoryRecords, type RawRecord } from './directory-records.js';
import { type BootCatalog, readBootCatalog } from './el-torito.js';
import { checkFileExtents, IsoReadBudget } from './read-budget.js';
import { readSystemUse } from './rock-ridge-reader.js';
import { readExtent, TreeWalker } from './tree-walker.js';

const SECTOR = 2048;

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
