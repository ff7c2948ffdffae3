import type { LibvirtContext } from '../libvirt-context.js';

/**
 * Deletes a volume as part of a clean-up (a failed or discarded build, a rolled-back import),
 * where a failure must not hide the error being handled: a volume that cannot be deleted is
 * logged as a warning (the `logger` option) naming it, the pool and the clean-up, and stays in
 * the pool for `vmkit prune`. Absent is not an error.
 */
export async function deleteLeftoverVolume(
  ctx: Pick<LibvirtContext, 'storage' | 'options'>,
  volume: string,
  during: string,
): Promise<void> {
  try {
    await ctx.storage.delete(volume);
  } catch (error) {
    ctx.options.logger.warn('libvirt: a volume could not be removed; it stays in the pool', {
      volume,
      pool: ctx.storage.name,
      during,
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}
