import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../config/settings.js';

/**
 * vmkit's own known_hosts for `vmkit ssh`: `.ssh/known_hosts` in the store directory (with the
 * nodes it records), or `~/.vmkit/known_hosts` (`$HOME`) with an S3 store. Never the user's own
 * `~/.ssh/known_hosts`: node host keys come and go with the nodes.
 */
export function knownHostsFile(settings: Settings, env: NodeJS.ProcessEnv): string {
  if ('dir' in settings.store) return join(settings.store.dir, '.ssh', 'known_hosts');
  return join(env.HOME ?? homedir(), '.vmkit', 'known_hosts');
}
