import { createHash } from 'node:crypto';

/** Checksum lists installers verify, by file name, with their hash algorithm. */
export const CHECKSUM_LISTS: Readonly<Record<string, 'md5' | 'sha1' | 'sha256' | 'sha512'>> = Object.freeze({
  'md5sum.txt': 'md5',
  md5sums: 'md5',
  'sha1sum.txt': 'sha1',
  'sha256sum.txt': 'sha256',
  sha256sums: 'sha256',
  'sha512sum.txt': 'sha512',
});

/** The algorithm of a checksum list at `path`, or `undefined`. */
export function checksumListAlgorithm(path: string): 'md5' | 'sha1' | 'sha256' | 'sha512' | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  return CHECKSUM_LISTS[name];
}

/**
 * Rewrites the lines of a checksum list (`<hex>  <path>`, paths relative to the list's directory,
 * with or without `./`) whose file changed; returns `undefined` when none did.
 */
export function updateChecksumList(
  text: string,
  listPath: string,
  algorithm: string,
  changed: ReadonlyMap<string, Uint8Array>,
): string | undefined {
  const dir = listPath.includes('/') ? listPath.slice(0, listPath.lastIndexOf('/') + 1) : '';
  let touched = false;
  const out = text.split('\n').map((line) => {
    const m = /^([0-9a-fA-F]+)(\s+\*?)(.+?)(\r?)$/.exec(line);
    if (!m) return line;
    const rel = (m[3] ?? '').replace(/^\.\//, '').replace(/^\/+/, '');
    const content = changed.get(`${dir}${rel}`.replace(/^\/+/, ''));
    if (!content) return line;
    touched = true;
    const hash = createHash(algorithm).update(content).digest('hex');
    return `${hash}${m[2]}${m[3]}${m[4]}`;
  });
  return touched ? out.join('\n') : undefined;
}
