import { isRetryable, retryRetryable } from '@vmkit/core/spi';
import type { LibvirtContext } from '../libvirt-context.js';

/** How much of a console log is read by default: its end, where failures show. */
export const CONSOLE_TAIL_BYTES = 64 * 1024;

/**
 * Reads the last `tailBytes` of a serial console log that a domain wrote to a file in the pool,
 * through the storage API (`STORAGE_VOL_DOWNLOAD`, so remote daemons work); `undefined` when the
 * file does not exist. A guest that prints without end cannot make the host read it all. A read
 * cut by a lost connection (a restarted daemon) is read again on the next one (3 tries in all).
 */
export async function readConsoleLog(
  ctx: LibvirtContext,
  logVolume: string,
  tailBytes = CONSOLE_TAIL_BYTES,
): Promise<string | undefined> {
  return retryRetryable(() => readTail(ctx, logVolume, tailBytes), {
    attempts: 3,
    baseDelayMs: 0,
    // Not once reconnecting was given up (its error says so): the daemon is gone for good.
    retryIf: (error) => isRetryable(error) && error.details.reconnectAttempts === undefined,
  });
}

async function readTail(
  ctx: LibvirtContext,
  logVolume: string,
  tailBytes: number,
): Promise<string | undefined> {
  await ctx.storage.refresh();
  const vol = await ctx.storage.find(logVolume);
  if (!vol) return undefined;
  const { capacity } = await ctx.client.storage.volGetInfo(vol);
  const offset = Math.max(0, capacity - tailBytes);
  const chunks: Buffer[] = [];
  // A length of 0 reads to the end (the guest may still be appending).
  for await (const chunk of await ctx.client.storage.volDownload(vol, { offset, length: 0 })) {
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks);
  return text.subarray(Math.max(0, text.length - tailBytes)).toString('utf8');
}
