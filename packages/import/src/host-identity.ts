import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';

/** Which host, and which boot of it, a task record was written by. */
export interface HostIdentity {
  /**
   * The host name and a hash of `/etc/machine-id` (the id itself is meant to stay private), so
   * that hosts sharing a name, or containers sharing a machine id, still differ.
   */
  readonly hostId: string;
  /** `/proc/sys/kernel/random/boot_id`: new at every boot; empty when unreadable (then no pid is ever killed). */
  readonly bootId: string;
  /** This process. */
  readonly pid: number;
}

async function firstLine(path: string): Promise<string> {
  return ((await readFile(path, 'utf8').catch(() => '')).split('\n')[0] ?? '').trim();
}

/** This host's identity, read once per service. */
export async function hostIdentity(): Promise<HostIdentity> {
  const machineId = await firstLine('/etc/machine-id');
  const name =
    hostname()
      .replace(/[^A-Za-z0-9.-]/g, '_')
      .slice(0, 100) || 'host';
  const tag = machineId
    ? `:${createHash('sha256').update(`vmkit-import\0${machineId}`).digest('hex').slice(0, 16)}`
    : '';
  const bootId = await firstLine('/proc/sys/kernel/random/boot_id');
  return Object.freeze({
    hostId: `${name}${tag}`,
    bootId: /^[0-9a-f-]{1,64}$/.test(bootId) ? bootId : '',
    pid: process.pid,
  });
}
