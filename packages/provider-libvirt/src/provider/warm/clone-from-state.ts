import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CloneSpec,
  emitProgress,
  type OperationOptions,
  VmkitError,
  type WarmCloneResult,
  type WarmStateRef,
} from '@vmkit/core/spi';
import { DomainSaveFlags, DomainXmlFlags } from '../../client/domain-procedures.js';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { cloneLibvirtNode } from '../node/clone-node.js';
import { destroyLibvirtNode, powerLibvirtNode } from '../node/node-power.js';
import { describeNode } from '../node/node-view.js';
import { setGuestClock } from './guest-clock.js';
import { feedCloneStateImage, type StateImageFeed } from './state-image-feed.js';
import { readSaveImageFile, type SaveImageFile } from './state-image-file.js';
import { checkWarmRef } from './warm-names.js';

/**
 * One warm clone: the node is defined as a cold clone is (its own overlay, now over the warm
 * state's disk, its config drive, forwards, metadata, and a fresh `<genid>`), then a state image
 * of its own is written from the template's (its own XML and cookie, the template's migration
 * stream; see {@link writeCloneStateImage}) and restored, and removed once restored; the guest
 * clock is set to the host's through the agent ({@link setGuestClock}). The template's state
 * image is only read. When
 * the state cannot be used (unreadable, refused by libvirt or QEMU), what the attempt made is
 * removed and the node boots cold from the master: `resumed: false` with the reason.
 */
export async function cloneLibvirtNodeFromState(
  ctx: LibvirtContext,
  spec: CloneSpec,
  ref: WarmStateRef,
  options: OperationOptions = {},
): Promise<WarmCloneResult> {
  const warm = checkWarmRef(ctx.options, ref, spec.master);
  const dir = await ctx.storage.targetPath();
  const statePath = join(dir, warm.state);
  let image: SaveImageFile;
  try {
    image = await readSaveImageFile(statePath);
    // A stale state's disk goes once no clone is based on it: a clone of that state boots cold.
    await access(join(dir, warm.disk));
  } catch (error) {
    return bootCold(ctx, spec, options, `state image ${warm.state} unusable: ${(error as Error).message}`);
  }
  const { dom, meta } = await cloneLibvirtNode(ctx, spec, options, {
    outcome: { resumed: true },
    disk: { basePath: join(dir, warm.disk), genid: randomUUID() },
  });
  let feed: StateImageFeed | undefined;
  try {
    const xml = await ctx.client.domains.getXmlDesc(dom, DomainXmlFlags.SECURE | DomainXmlFlags.MIGRATABLE);
    const cookie = image.cookie === undefined ? undefined : cloneCookie(image.cookie, dom, xml);
    feed = await feedCloneStateImage({ ...image, path: statePath }, join(dir, `${dom.name}.state`), {
      xml,
      ...(cookie !== undefined ? { cookie } : {}),
    });
    await ctx.client.domains.restore(feed.path, DomainSaveFlags.RUNNING, options.signal);
  } catch (error) {
    await feed?.close();
    await destroyLibvirtNode(ctx, dom.name);
    if (options.signal?.aborted) throw error;
    return bootCold(ctx, spec, options, `restoring the warm state failed: ${(error as Error).message}`);
  }
  await feed.close();
  emitProgress(options.onProgress, { phase: 'start', node: spec.name, message: `${spec.name} restored` });
  try {
    await setGuestClock(ctx, dom, options.signal);
  } catch (error) {
    await destroyLibvirtNode(ctx, dom.name).catch(() => {});
    throw error;
  }
  emitProgress(options.onProgress, { phase: 'start', node: spec.name, message: `${spec.name} resumed` });
  return { node: await describeNode(ctx, dom, meta), resumed: true };
}

/** The template's migration cookie with the clone's name and UUID (libvirt compares them on restore). */
function cloneCookie(cookie: string, dom: DomainHandle, xml: string): string {
  const uuid = /<uuid>([0-9a-f-]{36})<\/uuid>/.exec(xml)?.[1];
  if (!uuid) throw new VmkitError('PROVIDER', `the XML of ${dom.name} has no UUID`);
  return cookie
    .replace(/<name>[^<]*<\/name>/, `<name>${dom.name}</name>`)
    .replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${uuid}</uuid>`);
}

/** The cold fallback: an ordinary clone of the master, started. */
async function bootCold(
  ctx: LibvirtContext,
  spec: CloneSpec,
  options: OperationOptions,
  reason: string,
): Promise<WarmCloneResult> {
  emitProgress(options.onProgress, {
    phase: 'clone',
    node: spec.name,
    message: `${spec.name} boots cold: ${reason}`,
  });
  // The domain's record says it booted cold, so every later look at the node says so too.
  const { dom, meta } = await cloneLibvirtNode(ctx, spec, options, { outcome: { resumed: false, reason } });
  try {
    await powerLibvirtNode(ctx, 'start', dom.name, options);
  } catch (error) {
    await destroyLibvirtNode(ctx, dom.name).catch(() => {});
    throw error;
  }
  return { node: await describeNode(ctx, dom, meta), resumed: false, reason };
}
