import { invalidArgument } from '@vmkit/core/spi';
import { isMediaSource, type MediaEntry, type MediaEntryType, type MediaSource } from './media-entry.js';
import { utf8, utf8Length } from './util/bytes.js';
import { isWellFormedUnicode } from './util/unicode.js';

/** Longest name component, in UTF-8 bytes (POSIX NAME_MAX). */
export const MAX_NAME_BYTES = 255;
/** Longest path, in UTF-8 bytes (PATH_MAX less the terminator). */
export const MAX_PATH_BYTES = 4095;
/** Longest symbolic link target, in UTF-8 bytes (one Rock Ridge SL record chain kept small; ample for real links). */
export const MAX_TARGET_BYTES = 1024;

/** One node of the validated tree both writers lay out. */
export interface MediaNode {
  /** Name in its parent (`''` for the root). */
  readonly name: string;
  /** Full relative path (`''` for the root). */
  readonly path: string;
  /** What the node is. */
  readonly kind: MediaEntryType;
  /** Permission bits (no file-type bits). */
  mode: number;
  /** Modification time. */
  mtime: Date;
  /** Content length in bytes (0 for directories and symlinks). */
  readonly size: number;
  /** Content held in memory. */
  readonly data?: Uint8Array;
  /** Content read lazily. */
  readonly source?: MediaSource;
  /** Symlink target. */
  readonly target?: string;
  /** Children of a directory, sorted by name (code-unit order). */
  readonly children: MediaNode[];
  /** Index of the entry that declared the node, or -1 for implied parents. */
  entryIndex: number;
}

/** Options of {@link buildMediaTree}. */
export interface MediaTreeOptions {
  /** Time given to nodes without their own. */
  readonly defaultMtime: Date;
  /** Largest file size accepted, in bytes. */
  readonly maxFileSize: number;
  /** Name of the argument in error messages (default `entries`). */
  readonly field?: string;
}

const DEFAULT_MODES: Record<MediaEntryType, number> = { file: 0o644, directory: 0o755, symlink: 0o777 };

/**
 * Validates `entries` and arranges them in a tree. Names that could escape a directory, control
 * characters, malformed Unicode, over-long names, duplicates and type clashes are refused with an
 * `INVALID_ARGUMENT` error naming the entry and the rule.
 */
export function buildMediaTree(entries: readonly MediaEntry[], options: MediaTreeOptions): MediaNode {
  const field = options.field ?? 'entries';
  if (!Array.isArray(entries)) throw invalidArgument(field, 'must be an array of media entries');
  const root = makeNode('', '', 'directory', options.defaultMtime, -1);
  const byPath = new Map<string, MediaNode>([['', root]]);
  entries.forEach((entry, index) => {
    const at = `${field}[${index}]`;
    if (typeof entry !== 'object' || entry === null) throw invalidArgument(at, 'must be an object');
    const parts = splitPath(entry.path, `${at}.path`);
    const kind = entryKind(entry, at);
    const mtime = entryTime(entry.mtime, `${at}.mtime`, options.defaultMtime);
    const mode = entryMode(entry.mode, `${at}.mode`, DEFAULT_MODES[kind]);
    let parent = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const sub = parts.slice(0, i + 1).join('/');
      let dir = byPath.get(sub);
      if (!dir) {
        dir = makeNode(parts[i] as string, sub, 'directory', options.defaultMtime, -1);
        byPath.set(sub, dir);
        parent.children.push(dir);
      } else if (dir.kind !== 'directory') {
        throw invalidArgument(
          `${at}.path`,
          `'${sub}' is a ${dir.kind} (entries[${dir.entryIndex}]), not a directory`,
        );
      }
      parent = dir;
    }
    const path = parts.join('/');
    const existing = byPath.get(path);
    if (existing) {
      if (existing.kind === 'directory' && kind === 'directory' && existing.entryIndex === -1) {
        existing.mode = mode;
        existing.mtime = mtime;
        existing.entryIndex = index;
        return;
      }
      const first = existing.entryIndex === -1 ? 'an implied directory' : `${field}[${existing.entryIndex}]`;
      throw invalidArgument(`${at}.path`, `'${path}' is already used by ${first}; paths must be unique`);
    }
    const node = contentNode(
      entry,
      kind,
      parts[parts.length - 1] as string,
      path,
      mtime,
      mode,
      index,
      at,
      options,
    );
    byPath.set(path, node);
    parent.children.push(node);
  });
  sortTree(root);
  return root;
}

/** Validates a relative media path and splits it into components. */
export function splitPath(path: unknown, field: string): string[] {
  if (typeof path !== 'string' || path.length === 0)
    throw invalidArgument(field, 'must be a non-empty string');
  if (!isWellFormedUnicode(path))
    throw invalidArgument(field, 'must be well-formed Unicode (no lone surrogates)');
  if (path.startsWith('/')) throw invalidArgument(field, 'must be relative (no leading /)');
  if (utf8Length(path) > MAX_PATH_BYTES)
    throw invalidArgument(field, `must be at most ${MAX_PATH_BYTES} UTF-8 bytes`);
  const parts = path.endsWith('/') ? path.slice(0, -1).split('/') : path.split('/');
  for (const part of parts) checkName(part, field);
  return parts;
}

/** Validates one name component. */
export function checkName(name: string, field: string): void {
  if (name.length === 0) throw invalidArgument(field, 'must not contain empty components (//)');
  if (name === '.' || name === '..') {
    throw invalidArgument(
      field,
      `must not contain '${name}' components (they could escape the target directory)`,
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0000-\u001f\u007f]/.test(name))
    throw invalidArgument(field, 'must not contain NUL or control characters');
  if (utf8Length(name) > MAX_NAME_BYTES) {
    throw invalidArgument(field, `each component must be at most ${MAX_NAME_BYTES} UTF-8 bytes`);
  }
}

function entryKind(entry: MediaEntry, at: string): MediaEntryType {
  const type = entry.type ?? (entry.target !== undefined ? 'symlink' : 'file');
  if (type !== 'file' && type !== 'directory' && type !== 'symlink') {
    throw invalidArgument(`${at}.type`, "must be 'file', 'directory' or 'symlink'");
  }
  if (type !== 'file' && entry.content !== undefined)
    throw invalidArgument(`${at}.content`, `a ${type} has no content`);
  if (type !== 'symlink' && entry.target !== undefined)
    throw invalidArgument(`${at}.target`, 'only symlinks have a target');
  return type;
}

function entryTime(value: Date | number | undefined, field: string, fallback: Date): Date {
  if (value === undefined) return fallback;
  const date = value instanceof Date ? value : typeof value === 'number' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime()))
    throw invalidArgument(field, 'must be a valid Date or epoch milliseconds');
  return date;
}

function entryMode(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 0o7777)
    throw invalidArgument(field, 'must be an integer from 0 to 0o7777');
  return value;
}

function contentNode(
  entry: MediaEntry,
  kind: MediaEntryType,
  name: string,
  path: string,
  mtime: Date,
  mode: number,
  index: number,
  at: string,
  options: MediaTreeOptions,
): MediaNode {
  const node = makeNode(name, path, kind, mtime, index);
  node.mode = mode;
  if (kind === 'symlink') {
    const target = entry.target;
    if (typeof target !== 'string' || target.length === 0)
      throw invalidArgument(`${at}.target`, 'a symlink needs a non-empty target');
    if (!isWellFormedUnicode(target) || target.includes('\u0000'))
      throw invalidArgument(`${at}.target`, 'must be well-formed Unicode without NUL');
    if (utf8Length(target) > MAX_TARGET_BYTES)
      throw invalidArgument(`${at}.target`, `must be at most ${MAX_TARGET_BYTES} UTF-8 bytes`);
    return { ...node, target };
  }
  if (kind === 'directory') return node;
  const content = entry.content ?? new Uint8Array(0);
  let data: Uint8Array | undefined;
  let source: MediaSource | undefined;
  if (typeof content === 'string') data = utf8(content);
  else if (content instanceof Uint8Array) data = content;
  else if (isMediaSource(content)) source = content;
  else throw invalidArgument(`${at}.content`, 'must be a Uint8Array, a string or a MediaSource');
  const size = data ? data.length : (source as MediaSource).size;
  if (!Number.isSafeInteger(size) || size < 0)
    throw invalidArgument(`${at}.content`, 'size must be a non-negative integer');
  if (size > options.maxFileSize) {
    throw invalidArgument(
      `${at}.content`,
      `is ${size} bytes; files may be at most ${options.maxFileSize} bytes here`,
    );
  }
  return { ...node, size, ...(data ? { data } : { source }) };
}

function makeNode(
  name: string,
  path: string,
  kind: MediaEntryType,
  mtime: Date,
  entryIndex: number,
): MediaNode {
  return { name, path, kind, mode: DEFAULT_MODES[kind], mtime, size: 0, children: [], entryIndex };
}

function sortTree(node: MediaNode): void {
  node.children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const child of node.children) if (child.kind === 'directory') sortTree(child);
}

/** Every node of the tree, parents before children, in sorted depth-first order (root excluded). */
export function* walkTree(node: MediaNode): Generator<MediaNode> {
  for (const child of node.children) {
    yield child;
    if (child.kind === 'directory') yield* walkTree(child);
  }
}
