import { randomBytes } from 'node:crypto';
import { VmkitError } from '../errors/vmkit-error.js';

/**
 * Names for `count` new nodes of a group: the given names first, then `group-xxxx` with a random
 * hex suffix, none clashing with `taken` (existing nodes) or with each other.
 */
export function nodeNames(
  group: string,
  count: number,
  given: readonly string[],
  taken: ReadonlySet<string>,
): string[] {
  const names: string[] = [];
  const used = new Set(taken);
  for (const name of given.slice(0, count)) {
    if (used.has(name))
      throw new VmkitError('CONFLICT', `a node named ${name} exists`, { details: { node: name } });
    used.add(name);
    names.push(name);
  }
  let attempts = 0;
  while (names.length < count) {
    if (++attempts > count * 100 + 1000) {
      throw new VmkitError('CONFLICT', `could not find free names in group ${group}`, { details: { group } });
    }
    const name = `${group}-${randomBytes(2).toString('hex')}`;
    if (used.has(name)) continue;
    used.add(name);
    names.push(name);
  }
  return names;
}
