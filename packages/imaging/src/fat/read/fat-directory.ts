import { VmkitError } from '@vmkit/core/spi';
import { read16le, read32le } from '../../util/bytes.js';
import { shortNameChecksum } from '../fat-names.js';
import type { FatFileInfo } from './fat-reader.js';
import { corruptFat, type FatClusters } from './fat-volume.js';

/** A directory being listed: its bytes, how far it was read, where it sits. */
interface Frame {
  readonly dir: Uint8Array;
  off: number;
  long: { parts: string[]; checksum: number } | undefined;
  readonly parent: string;
  readonly depth: number;
}

/** What {@link listFatEntries} found: every entry, parents before children, and the root's label. */
export interface FatListing {
  readonly files: FatFileInfo[];
  readonly label?: string;
}

/**
 * Walks the directory tree from the root (depth first, one frame per open directory, no
 * recursion), refusing more than `maxEntries` entries and nesting deeper than `maxDepth`.
 */
export function listFatEntries(
  clusters: FatClusters,
  fat32: boolean,
  maxEntries: number,
  maxDepth: number,
): FatListing {
  const files: FatFileInfo[] = [];
  let label: string | undefined;
  const stack: Frame[] = [{ dir: clusters.rootDirectory(), off: 0, long: undefined, parent: '', depth: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    const child = nextEntry(frame, fat32, (found) => {
      if (label === undefined) label = found;
    });
    if (!child) {
      stack.pop();
      continue;
    }
    if (files.length >= maxEntries) throw corruptFat(`more than ${maxEntries} entries (options.maxEntries)`);
    files.push(child);
    if (child.type === 'directory') {
      if (frame.depth + 1 > maxDepth)
        throw corruptFat(`directories nest deeper than ${maxDepth} at '${child.path}' (options.maxDepth)`);
      const dir = clusters.data(clusters.directoryChain(child.cluster, child.path));
      stack.push({ dir, off: 0, long: undefined, parent: child.path, depth: frame.depth + 1 });
    }
  }
  return label === undefined ? { files } : { files, label };
}

const LFN_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/**
 * Reads on in `frame` to its next file or directory entry (advancing `frame.off`), or returns
 * `undefined` at its end. The root's volume label goes to `onLabel`.
 */
function nextEntry(frame: Frame, fat32: boolean, onLabel: (label: string) => void): FatFileInfo | undefined {
  const dir = frame.dir;
  for (; frame.off + 32 <= dir.length; frame.off += 32) {
    const off = frame.off;
    const first = dir[off] ?? 0;
    if (first === 0) break;
    if (first === 0xe5) {
      frame.long = undefined;
      continue;
    }
    const attr = dir[off + 11] ?? 0;
    if ((attr & 0x3f) === 0x0f) {
      let text = '';
      for (const o of LFN_OFFSETS) {
        const unit = read16le(dir, off + o);
        if (unit === 0 || unit === 0xffff) break;
        text += String.fromCharCode(unit);
      }
      if (first & 0x40) frame.long = { parts: [], checksum: dir[off + 13] ?? 0 };
      frame.long?.parts.unshift(text);
      continue;
    }
    const shortBytes = dir.subarray(off, off + 11);
    const base = String.fromCharCode(...shortBytes.subarray(0, 8)).replace(/ +$/, '');
    const extPart = String.fromCharCode(...shortBytes.subarray(8, 11)).replace(/ +$/, '');
    const shortName = extPart ? `${base}.${extPart}` : base;
    const long = frame.long;
    frame.long = undefined;
    if (attr & 0x08) {
      if (frame.parent === '') onLabel(String.fromCharCode(...shortBytes).replace(/ +$/, ''));
      continue;
    }
    if (base === '.' || base === '..') continue;
    const name = long && long.checksum === shortNameChecksum(shortBytes) ? long.parts.join('') : shortName;
    if (
      name === '' ||
      name === '.' ||
      name === '..' ||
      name.includes('/') ||
      name.includes('\\') ||
      name.includes('\u0000')
    ) {
      throw new VmkitError(
        'CORRUPT',
        `refused entry name ${JSON.stringify(name)}: it could escape the target directory`,
      );
    }
    frame.off += 32;
    const isDir = (attr & 0x10) !== 0;
    return {
      path: frame.parent === '' ? name : `${frame.parent}/${name}`,
      shortName,
      size: isDir ? 0 : read32le(dir, off + 28),
      type: isDir ? 'directory' : 'file',
      cluster: (fat32 ? read16le(dir, off + 20) * 0x10000 : 0) + read16le(dir, off + 26),
    };
  }
  frame.off = dir.length;
  return undefined;
}
