import { createHash } from 'node:crypto';
import { join } from 'node:path';

/**
 * The file of one port's lease in the lease directory. This machine's leases keep the names of
 * earlier versions (`tcp-20001.lease`); a remote host's carry a hash of its identity
 * (`h-<16 hex>-tcp-20001.lease`), so the same port number on two hosts is two leases.
 */
export function leaseFileName(dir: string, protocol: string, port: number, host?: string): string {
  if (host === undefined) return join(dir, `${protocol}-${port}.lease`);
  const tag = createHash('sha256').update(host).digest('hex').slice(0, 16);
  return join(dir, `h-${tag}-${protocol}-${port}.lease`);
}

/**
 * The file of one guest address's lease: `ip-<16 hex>-<address>.lease`, the hex a hash of the
 * network (`scope`) and its host, so one address on two networks is two leases.
 */
export function addressLeaseFileName(dir: string, scope: string, address: string, host?: string): string {
  const tag = createHash('sha256')
    .update(`${host ?? ''}\n${scope}`)
    .digest('hex')
    .slice(0, 16);
  return join(dir, `ip-${tag}-${address}.lease`);
}

/** Ports a hypervisor could not bind, skipped by `'auto'` leases until a deadline (this process only). */
export class AvoidedPorts {
  readonly #until = new Map<string, number>();

  /** Skips `key` (a lease file name) until `forMs` from now. */
  add(key: string, forMs: number): void {
    this.#until.set(key, Date.now() + forMs);
  }

  /** Whether `key` is still skipped; an expired entry is forgotten. */
  has(key: string): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#until.delete(key);
    return false;
  }
}

/** Whether a process (a lease's taker) is alive; one of another user counts as alive. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
