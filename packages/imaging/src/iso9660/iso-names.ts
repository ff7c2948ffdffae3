import type { MediaNode } from '../media-tree.js';

/** ISO 9660 interchange level for names in the primary (non-extension) namespace. */
export type IsoLevel = 1 | 2;

/** Characters Joliet forbids in identifiers (Joliet spec 3.3), besides controls. */
const JOLIET_FORBIDDEN = /[*/:;?\\]/g;
/** Longest Joliet identifier, in UCS-2 code units (Joliet spec 3.3). */
export const JOLIET_MAX_NAME = 64;

/** A child's identifier in one namespace: the name part, the extension part (files) and the text recorded. */
export interface IsoIdentifier {
  /** The node named. */
  readonly node: MediaNode;
  /** Text recorded in the directory record, version suffix included (`README.TXT;1`). */
  readonly recorded: string;
  /** Sort key: name then extension, as ECMA-119 9.3 orders records. */
  readonly sortName: string;
  /** Sort key, second part. */
  readonly sortExt: string;
}

function dChars(text: string): string {
  return text.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/**
 * Names `children` with ECMA-119 d-character identifiers (level 1: 8.3, level 2: 30 characters),
 * unique within the directory; collisions get a numeric tail. Files carry `;1`. The next tail to
 * try is remembered per base name, so many similar names are named in linear time.
 */
export function primaryIdentifiers(children: readonly MediaNode[], level: IsoLevel): IsoIdentifier[] {
  const used = new Set<string>();
  const nextTail = new Map<string, number>();
  const out: IsoIdentifier[] = [];
  for (const node of children) {
    const isDir = node.kind === 'directory';
    const dot = isDir ? -1 : node.name.lastIndexOf('.');
    let base = dChars(dot > 0 ? node.name.slice(0, dot) : node.name);
    let ext = dot > 0 ? dChars(node.name.slice(dot + 1)) : '';
    ext = ext.slice(0, level === 1 ? 3 : 29);
    const baseRoom = level === 1 ? 8 : isDir ? 31 : 30 - ext.length;
    base = base.slice(0, baseRoom) || '_';
    let candidate = base;
    if (used.has(key(candidate, ext, isDir))) {
      // Tails below the remembered one were all taken when last tried, and names are never freed.
      // Candidates with a tail depend only on the base less its last character, the extension and the room.
      const family = `${base.slice(0, baseRoom - 1)}\u0000${ext}\u0000${baseRoom}`;
      let n = nextTail.get(family) ?? 1;
      for (; ; n++) {
        const tail = String(n);
        candidate = base.slice(0, Math.max(1, baseRoom - tail.length)) + tail;
        if (!used.has(key(candidate, ext, isDir))) break;
      }
      nextTail.set(family, n + 1);
    }
    used.add(key(candidate, ext, isDir));
    out.push({
      node,
      recorded: isDir ? candidate : `${candidate}.${ext};1`,
      sortName: candidate,
      sortExt: isDir ? '' : ext,
    });
  }
  return out.sort(compareIdentifiers);
}

/** Names compared as readers show them: `A.` (a file without extension) and `A` (a directory) clash. */
function key(base: string, ext: string, _isDir: boolean): string {
  return ext === '' ? base : `${base}.${ext}`;
}

/**
 * Names `children` with Joliet identifiers: the Unicode name, forbidden characters and characters
 * outside UCS-2 replaced by `_`,
 * cut to 64 code units keeping the extension, unique
 * within the directory (`~n` tails, the next one remembered per name). Files carry `;1`.
 */
export function jolietIdentifiers(children: readonly MediaNode[]): IsoIdentifier[] {
  const used = new Set<string>();
  const nextTail = new Map<string, number>();
  const out: IsoIdentifier[] = [];
  for (const node of children) {
    // Joliet is UCS-2: characters outside the Basic Multilingual Plane (surrogate pairs) become `_`.
    const clean = node.name.replace(JOLIET_FORBIDDEN, '_').replace(/[\ud800-\udbff][\udc00-\udfff]/g, '_');
    let candidate = fitJoliet(clean, '');
    if (used.has(candidate)) {
      // Candidates with a tail depend only on the extension and the base cut to the room left.
      const { base, ext } = splitJoliet(clean);
      const family = `${ext}\u0000${cutUtf16(base, JOLIET_MAX_NAME - ext.length)}`;
      let n = nextTail.get(family) ?? 1;
      for (candidate = fitJoliet(clean, `~${n}`); used.has(candidate); )
        candidate = fitJoliet(clean, `~${++n}`);
      nextTail.set(family, n + 1);
    }
    used.add(candidate);
    const isDir = node.kind === 'directory';
    out.push({ node, recorded: isDir ? candidate : `${candidate};1`, sortName: candidate, sortExt: '' });
  }
  return out.sort(compareIdentifiers);
}

function splitJoliet(name: string): { base: string; ext: string } {
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  return { base: ext ? name.slice(0, dot) : name, ext };
}

function fitJoliet(name: string, tail: string): string {
  if (name.length + tail.length <= JOLIET_MAX_NAME && tail === '') return name;
  const { base, ext } = splitJoliet(name);
  return cutUtf16(base, JOLIET_MAX_NAME - ext.length - tail.length) + tail + ext;
}

/** Cuts `text` to at most `units` UTF-16 code units without splitting a surrogate pair. */
export function cutUtf16(text: string, units: number): string {
  if (text.length <= units) return text;
  let cut = Math.max(0, units);
  const last = text.charCodeAt(cut - 1);
  if (cut > 0 && last >= 0xd800 && last <= 0xdbff) cut--;
  return text.slice(0, cut);
}

function compareIdentifiers(a: IsoIdentifier, b: IsoIdentifier): number {
  if (a.sortName !== b.sortName) return a.sortName < b.sortName ? -1 : 1;
  if (a.sortExt !== b.sortExt) return a.sortExt < b.sortExt ? -1 : 1;
  return 0;
}
