import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { LibvirtClient } from '../src/client/libvirt-client.js';
import { poolVolumeNames } from './libvirt-sweep.js';

/** A TCP port on 127.0.0.1 that is free right now (the system chooses it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** The test guest's `/boot-id` through a forwarded port, or `undefined` while it does not answer. */
export async function guestBootId(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/boot-id`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? (await res.text()).trim() || undefined : undefined;
  } catch {
    return undefined;
  }
}

/** Names of the networks the daemon itself reports (`virsh net-list --all --name`). */
export function virshNetworkNames(uri: string): string[] {
  const out = execFileSync('virsh', ['-c', uri, 'net-list', '--all', '--name'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/**
 * `kind:name` of every domain and pool volume whose name starts with `prefix`, read over the
 * given connection (the test driver keeps its objects per connection). Throws when the pool cannot
 * be read.
 */
export async function realObjects(client: LibvirtClient, prefix: string, pool: string): Promise<string[]> {
  const domains = (await client.domains.listAll()).map((d) => d.name).filter((n) => n.startsWith(prefix));
  const volumes = await poolVolumeNames(client, pool, prefix);
  return [...domains.map((n) => `domain:${n}`), ...volumes.map((n) => `volume:${n}`)];
}
