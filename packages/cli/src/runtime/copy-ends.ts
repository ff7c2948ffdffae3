import { posix } from 'node:path';
import { checkGuestPath, invalidArgument } from '@vmkit/core/spi';

/** One end of `vmkit cp`: a file in a node, a host file, or `-` (standard input or output). */
export type CopyEnd =
  | { readonly kind: 'node'; readonly node: string; readonly path: string }
  | { readonly kind: 'host'; readonly path: string }
  | { readonly kind: 'stdio' };

/** What `vmkit cp SRC DST` does: copy into a node (`in`) or out of one (`out`). */
export type CopyPlan =
  | { readonly direction: 'in'; readonly from: HostEnd; readonly to: NodeEnd }
  | { readonly direction: 'out'; readonly from: NodeEnd; readonly to: HostEnd };

type NodeEnd = Extract<CopyEnd, { kind: 'node' }>;
type HostEnd = Exclude<CopyEnd, { kind: 'node' }>;

/** `NODE:PATH`: a node id or name (no `/`, not starting with `.`), a colon, the guest path. */
const NODE_END = /^([A-Za-z0-9][A-Za-z0-9._-]*):(.*)$/s;

const BOTH_RULE =
  'one of SRC and DST must be NODE:/PATH and the other a host path or - (a host path with a colon is written ./a:b)';

/** Reads one argument of `vmkit cp`: `-`, `NODE:PATH`, or else a host path. */
export function parseCopyEnd(text: string): CopyEnd {
  if (text === '-') return { kind: 'stdio' };
  const m = NODE_END.exec(text);
  if (m) return { kind: 'node', node: m[1] as string, path: m[2] as string };
  return { kind: 'host', path: text };
}

/**
 * The copy `vmkit cp SRC DST` asks for: exactly one end in a node, its guest path absolute (a
 * path ending in `/` is a directory: the source's file name is added). Anything else is
 * `INVALID_ARGUMENT` naming `SRC` or `DST` and the rule.
 */
export function planCopy(source: string, destination: string): CopyPlan {
  const from = parseCopyEnd(source);
  const to = parseCopyEnd(destination);
  if (from.kind === 'node' && to.kind !== 'node') {
    checkGuestPath('SRC', from.path);
    if (from.path.endsWith('/')) throw invalidArgument('SRC', `${source}: must name a file, not a directory`);
    return { direction: 'out', from, to };
  }
  if (to.kind === 'node' && from.kind !== 'node') {
    checkGuestPath('DST', to.path);
    if (!to.path.endsWith('/')) return { direction: 'in', from, to };
    if (from.kind === 'stdio')
      throw invalidArgument('DST', `${destination}: must name a file when SRC is - (no name to add)`);
    return { direction: 'in', from, to: { ...to, path: `${to.path}${posix.basename(from.path)}` } };
  }
  throw invalidArgument(from.kind === 'node' ? 'DST' : 'SRC', BOTH_RULE, { source, destination });
}
