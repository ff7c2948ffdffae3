import { InvalidArgumentError } from 'commander';

/**
 * What `up --wait` waits for: `port`, `http` (a GET of a path), `ssh` (the SSH server's own
 * greeting on the node's forward of guest port 22), `agent` (the node's guest agent answers,
 * through `ComputeService.waitForNode`).
 */
export type WaitFor =
  | { readonly kind: 'port' | 'ssh' }
  | { readonly kind: 'http'; readonly path: string }
  | { readonly kind: 'agent' };

/** The rule `--wait` states in its errors. */
export const WAIT_FLAG_RULE = 'must be port, http:/PATH, agent or ssh (e.g. --wait=http:/healthz)';

/** Parses `--wait`'s value (`true` when given bare: `port`). */
export function parseWaitFlag(text: string): WaitFor {
  if (text === 'port' || text === 'agent' || text === 'ssh') return { kind: text };
  if (text.startsWith('http:')) {
    const path = text.slice('http:'.length) || '/';
    if (!path.startsWith('/') || /[\s#]/.test(path)) throw new InvalidArgumentError(WAIT_FLAG_RULE);
    return { kind: 'http', path };
  }
  throw new InvalidArgumentError(WAIT_FLAG_RULE);
}
