import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LibvirtClient } from '../src/client/libvirt-client.js';

/** A small tmpfs mounted as root, whose `pool/` folder holds a libvirt dir pool of a unique name. */
export interface TmpfsPool {
  /** The pool's name. */
  readonly name: string;
  /** The pool's folder (inside the tmpfs). */
  readonly path: string;
  /** Bytes free on the tmpfs now (what `statfs` says). */
  freeBytes(): number;
  /** Fills the tmpfs with a ballast file outside the pool folder until `bytes` are free. */
  leaveFree(bytes: number): void;
  /** Removes the ballast. */
  dropBallast(): void;
  /** Names of the pool's volumes after a rescan; throws when the pool cannot be read. */
  volumes(): Promise<string[]>;
  /** Removes the pool's domains (by `prefix`) and volumes, the pool, and unmounts the tmpfs. */
  close(prefix: string): Promise<void>;
}

/** Mounts a tmpfs of `sizeMiB` and names a pool for it (the provider defines it on first use). */
export function mountTmpfsPool(uri: string, name: string, sizeMiB: number): TmpfsPool {
  const mnt = mkdtempSync(join(tmpdir(), 'vmkit-tmpfs-pool-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', mnt]);
  const path = join(mnt, 'pool');
  mkdirSync(path);
  const ballast = join(mnt, 'ballast');
  const free = () => {
    const s = statfsSync(mnt);
    return s.bavail * s.bsize;
  };
  const withPool = async <T>(act: (client: LibvirtClient) => Promise<T>): Promise<T> => {
    const client = await LibvirtClient.connect(uri);
    try {
      return await act(client);
    } finally {
      await client.close();
    }
  };
  return {
    name,
    path,
    freeBytes: free,
    leaveFree(bytes) {
      rmSync(ballast, { force: true });
      const size = free() - bytes;
      if (size > 0) writeFileSync(ballast, Buffer.alloc(size));
    },
    dropBallast() {
      rmSync(ballast, { force: true });
    },
    volumes: () =>
      withPool(async (client) => {
        const pool = await client.storage.poolLookupByName(name);
        await client.storage.poolRefresh(pool);
        return (await client.storage.poolListAllVolumes(pool)).map((v) => v.name).sort();
      }),
    async close(prefix) {
      try {
        await withPool(async (client) => {
          for (const d of await client.domains.listAll()) {
            if (!d.name.startsWith(prefix)) continue;
            await client.domains.destroy(d).catch(() => {});
            await client.domains.undefine(d, 3).catch(() => {});
          }
          const pool = await client.storage.poolLookupByName(name).catch(() => undefined);
          if (!pool) return;
          await client.storage.poolRefresh(pool).catch(() => {});
          for (const v of await client.storage.poolListAllVolumes(pool).catch(() => []))
            await client.storage.volDelete(v).catch(() => {});
          await client.storage.poolDestroy(pool).catch(() => {});
          await client.storage.poolUndefine(pool).catch(() => {});
        });
      } finally {
        execFileSync('umount', [mnt]);
        rmSync(mnt, { recursive: true, force: true });
      }
    },
  };
}

/** Names of the domains whose names start with `prefix`. */
export async function domainsNamed(uri: string, prefix: string): Promise<string[]> {
  const client = await LibvirtClient.connect(uri);
  try {
    return (await client.domains.listAll()).map((d) => d.name).filter((n) => n.startsWith(prefix));
  } finally {
    await client.close();
  }
}
