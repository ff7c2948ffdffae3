import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { LibvirtClient } from '../src/client/libvirt-client.js';

/**
 * Names of the pool's volumes that start with `prefix`, after a rescan (it shows files QEMU wrote
 * behind libvirt's back, e.g. console logs). Throws when the pool cannot be looked up, rescanned
 * or listed: a wrong pool name must fail the assertion that reads it, never read as "no volumes".
 * The daemon refuses a rescan while another upload into the shared pool runs, so it is retried.
 */
export async function poolVolumeNames(
  client: LibvirtClient,
  pool: string,
  prefix: string,
): Promise<string[]> {
  const p = await client.storage.poolLookupByName(pool);
  for (let attempt = 1; ; attempt++) {
    const refused = await client.storage.poolRefresh(p).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (refused === undefined) break;
    if (attempt === 30) throw refused;
    await new Promise((r) => setTimeout(r, 300));
  }
  return (await client.storage.poolListAllVolumes(p)).map((v) => v.name).filter((n) => n.startsWith(prefix));
}

/**
 * Names of the domains and volumes whose names start with `prefix`. Throws when the domain list
 * or the pool cannot be read (see {@link poolVolumeNames}).
 */
export async function leftovers(
  uri: string,
  prefix: string,
  pool: string,
): Promise<{ domains: string[]; volumes: string[] }> {
  const client = await LibvirtClient.connect(uri);
  try {
    const domains = (await client.domains.listAll()).map((d) => d.name).filter((n) => n.startsWith(prefix));
    const volumes = await poolVolumeNames(client, pool, prefix);
    // Sorted: libvirt lists in no fixed order, and tests compare two listings.
    return { domains: domains.sort(), volumes: volumes.sort() };
  } finally {
    await client.close();
  }
}

/** Removes every domain and volume whose name starts with `prefix`. */
export async function sweep(uri: string, prefix: string, pool: string): Promise<void> {
  const client = await LibvirtClient.connect(uri);
  try {
    for (const d of await client.domains.listAll()) {
      if (!d.name.startsWith(prefix)) continue;
      await client.domains.destroy(d).catch(() => {});
      // KEEP_NVRAM (8): an EFI domain's NVRAM is a pool volume, removed below with the others.
      await client.domains.undefine(d, 3 | 8).catch(() => {});
    }
    const p = await client.storage.poolLookupByName(pool).catch(() => undefined);
    if (p) {
      for (const v of await client.storage.poolListAllVolumes(p)) {
        if (v.name.startsWith(prefix)) await client.storage.volDelete(v).catch(() => {});
      }
    }
  } finally {
    await client.close();
  }
}

/** SHA-256 of a file. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
