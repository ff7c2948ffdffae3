import type { LibvirtContext } from './libvirt-context.js';

/**
 * Reads a serial console log that a domain wrote to a file in the pool, through the storage API
 * (`STORAGE_VOL_DOWNLOAD`, so remote daemons work); `undefined` when the file does not exist.
 */
export async function readConsoleLog(ctx: LibvirtContext, logVolume: string): Promise<string | undefined> {
  const pool = await ctx.storage.pool();
  await ctx.client.storage.poolRefresh(pool);
  const vol = await ctx.storage.find(logVolume);
  if (!vol) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of await ctx.client.storage.volDownload(vol)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
