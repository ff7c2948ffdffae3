import { invalidArgument } from '@vmkit/core/spi';
import type { MediaNode } from '../media-tree.js';

/** Longest long file name, in UTF-16 code units. */
export const MAX_LFN = 255;
const LFN_FORBIDDEN = /["*/:<>?\\|]/;
const SHORT_ALLOWED = /^[A-Z0-9!#$%&'()\-@^_`{}~]+$/;

/** The names one child gets in a FAT directory. */
export interface FatName {
  /** The 11-byte short name (8 + 3, space padded). */
  readonly short: Uint8Array;
  /** The long name, when the short name cannot carry the name exactly. */
  readonly long?: string;
}

/** Refuses names a FAT long name cannot hold, naming the entry. */
export function checkFatName(node: MediaNode, field: string): void {
  const name = node.name;
  if (LFN_FORBIDDEN.test(name))
    throw invalidArgument(field, `FAT names may not contain any of " * / : < > ? \\ |: '${name}'`);
  if (/[. ]$/.test(name))
    throw invalidArgument(field, `FAT names may not end with a dot or a space: '${name}'`);
  if (name.length > MAX_LFN)
    throw invalidArgument(field, `FAT long names are at most ${MAX_LFN} UTF-16 code units`);
}

function shortOf(name: string): { base: string; ext: string } | undefined {
  const dot = name.lastIndexOf('.');
  const base = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot + 1) : '';
  if (base.length < 1 || base.length > 8 || ext.length > 3) return undefined;
  if (!SHORT_ALLOWED.test(base) || (ext !== '' && !SHORT_ALLOWED.test(ext))) return undefined;
  return { base, ext };
}

function pack(base: string, ext: string): Uint8Array {
  const out = new Uint8Array(11).fill(0x20);
  for (let i = 0; i < base.length; i++) out[i] = base.charCodeAt(i);
  for (let i = 0; i < ext.length; i++) out[8 + i] = ext.charCodeAt(i);
  return out;
}

function basis(text: string): string {
  return text
    .toUpperCase()
    .replace(/[ .]/g, '')
    .replace(/[^A-Z0-9!#$%&'()\-@^_`{}~]/g, '_');
}

/**
 * Names the children of one directory: names that are valid upper-case 8.3 names stay short only;
 * others get a long name and a generated short alias (`USER-D~1`), unique in the directory.
 * Names that differ only in case collide on FAT and are refused.
 */
export function fatNames(
  children: readonly MediaNode[],
  fieldOf: (node: MediaNode) => string,
): Map<MediaNode, FatName> {
  const usedLong = new Map<string, MediaNode>();
  const usedShort = new Set<string>();
  // Next `~n` tail to try per base and extension: tails below it were taken when last tried, and
  // names are never freed, so many similar names are named in linear time.
  const nextTail = new Map<string, number>();
  const out = new Map<MediaNode, FatName>();
  const pending: MediaNode[] = [];
  for (const node of children) {
    checkFatName(node, fieldOf(node));
    const folded = node.name.toUpperCase();
    const clash = usedLong.get(folded);
    if (clash)
      throw invalidArgument(
        fieldOf(node),
        `'${node.name}' and '${clash.name}' are the same name on FAT (case-insensitive)`,
      );
    usedLong.set(folded, node);
    const exact = shortOf(node.name);
    if (exact) {
      out.set(node, { short: pack(exact.base, exact.ext) });
      usedShort.add(`${exact.base}.${exact.ext}`);
    } else {
      pending.push(node);
    }
  }
  for (const node of pending) {
    const upper = shortOf(node.name.toUpperCase());
    if (upper && !usedShort.has(`${upper.base}.${upper.ext}`)) {
      usedShort.add(`${upper.base}.${upper.ext}`);
      out.set(node, { short: pack(upper.base, upper.ext), long: node.name });
      continue;
    }
    const trimmed = node.name.replace(/^[. ]+/, '');
    const dot = trimmed.lastIndexOf('.');
    const base = basis(dot > 0 ? trimmed.slice(0, dot) : trimmed) || '_';
    const ext = basis(dot > 0 ? trimmed.slice(dot + 1) : '').slice(0, 3);
    let candidate = '';
    // Every candidate keeps at most the first six characters of the base.
    const family = `${base.slice(0, 6)}.${ext}`;
    let n = nextTail.get(family) ?? 1;
    for (; ; n++) {
      const tail = `~${n}`;
      candidate = base.slice(0, 8 - tail.length) + tail;
      if (!usedShort.has(`${candidate}.${ext}`)) break;
    }
    nextTail.set(family, n + 1);
    usedShort.add(`${candidate}.${ext}`);
    out.set(node, { short: pack(candidate, ext), long: node.name });
  }
  return out;
}

/** The checksum of a short name that ties long-name entries to it (Microsoft FAT specification 7). */
export function shortNameChecksum(short: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + (short[i] ?? 0)) & 0xff;
  return sum;
}
