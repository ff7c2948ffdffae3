import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { LibvirtClient } from '../src/client/libvirt-client.js';

/** Names of the domains and volumes whose names start with `prefix`. */
export async function leftovers(
  uri: string,
  prefix: string,
  pool: string,
): Promise<{ domains: string[]; volumes: string[] }> {
  const client = await LibvirtClient.connect(uri);
  try {
    const domains = (await client.domains.listAll()).map((d) => d.name).filter((n) => n.startsWith(prefix));
    const p = await client.storage.poolLookupByName(pool).catch(() => undefined);
    if (p) await client.storage.poolRefresh(p);
    const volumes = p
      ? (await client.storage.poolListAllVolumes(p)).map((v) => v.name).filter((n) => n.startsWith(prefix))
      : [];
    return { domains, volumes };
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
      await client.domains.undefine(d, 3).catch(() => {});
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
