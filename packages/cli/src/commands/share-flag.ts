import { resolve } from 'node:path';
import type { SharedFolder } from '@vmkit/core';
import { InvalidArgumentError } from 'commander';

/** The rule `--share` states in its errors. */
export const SHARE_FLAG_RULE =
  'must be HOST:GUEST or HOST:GUEST:ro, GUEST an absolute path of the guest (e.g. ./src:/mnt/src, /srv/data:/data:ro)';

/**
 * Parses one `--share` value and appends it to the ones before: the host directory (relative to
 * the working directory, made absolute here), the guest's absolute path after the first `:/`, and
 * an optional `:ro` (read-only) or `:rw` (the default). A bad value is commander's
 * `InvalidArgumentError`, which names `--share` and states the rule; the folders themselves (the
 * host directory exists, no guest path twice) are checked by `createNodesInGroup`.
 */
export function parseShareFlag(text: string, previous: readonly SharedFolder[] = []): SharedFolder[] {
  const mode = /:(ro|rw)$/.exec(text)?.[1];
  const rest = mode ? text.slice(0, -3) : text;
  const at = rest.indexOf(':/');
  if (at <= 0) throw new InvalidArgumentError(SHARE_FLAG_RULE);
  const guestPath = rest.slice(at + 1);
  if (guestPath.length > 1 && guestPath.endsWith('/')) throw new InvalidArgumentError(SHARE_FLAG_RULE);
  const folder: SharedFolder = {
    hostPath: resolve(rest.slice(0, at)),
    guestPath,
    ...(mode === 'ro' ? { readOnly: true } : {}),
  };
  return [...previous, folder];
}
