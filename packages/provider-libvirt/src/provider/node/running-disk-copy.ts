import { sleep, throwIfAborted, VmkitError } from '@vmkit/core/spi';
import { BlockCopyFlags } from '../../client/block-job-procedures.js';
import type { DomainHandle, StorageVolHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { parseXml, xmlEscape } from '../xml/xml-text.js';

/** How often the copy job is looked at while it catches up. */
const POLL_MS = 100;

/** The target name (`vda`) of the domain's disk whose source is the volume `volume`. */
async function diskTarget(ctx: LibvirtContext, dom: DomainHandle, volume: string): Promise<string> {
  const doc = parseXml(await ctx.client.domains.getXmlDesc(dom, 0)) as {
    domain?: {
      devices?: {
        disk?: Array<{ source?: { '@volume'?: string; '@file'?: string }; target?: { '@dev'?: string } }>;
      };
    };
  };
  for (const d of doc.domain?.devices?.disk ?? []) {
    const source = d.source?.['@volume'] ?? d.source?.['@file'] ?? '';
    if ((source === volume || source.endsWith(`/${volume}`)) && d.target?.['@dev']) return d.target['@dev'];
  }
  throw new VmkitError('PROVIDER', `the running domain has no disk ${volume}`, { details: { volume } });
}

/**
 * Copies a running node's disk `<node>.qcow2`, flattened, into the new pool volume `volume` while
 * the node keeps running: a full block copy job (`DOMAIN_BLOCK_COPY`, transient on the persistent
 * domain) mirrors the disk and its backing chain into the file; once the copy is in sync the
 * guest's file systems are frozen through its agent (`DOMAIN_FSFREEZE`), the job is ended without
 * a pivot (`DOMAIN_BLOCK_JOB_ABORT`, flags 0: the copy is complete as of that moment and the node
 * goes on with its own disk), and the file systems are thawed (`DOMAIN_FSTHAW`) whatever happens.
 * `onCreating` runs before the file can exist, so a caller can remove it on failure (the pool is
 * rescanned first: the file is written by QEMU, not through the storage API).
 */
export async function copyRunningDisk(
  ctx: LibvirtContext,
  dom: DomainHandle,
  node: string,
  volume: string,
  options: {
    readonly signal?: AbortSignal | undefined;
    readonly progress: (fraction: number, message: string) => void;
    readonly onCreating: () => void;
  },
): Promise<StorageVolHandle> {
  const jobs = ctx.client.blockJobs;
  const disk = await diskTarget(ctx, dom, `${node}.qcow2`);
  const dest = `${await ctx.storage.targetPath()}/${volume}`;
  options.onCreating();
  await jobs.blockCopy(
    dom,
    disk,
    `<disk type='file'><source file='${xmlEscape(dest)}'/><driver type='qcow2'/></disk>`,
    BlockCopyFlags.TRANSIENT_JOB,
  );
  let ended = false;
  try {
    for (;;) {
      throwIfAborted(options.signal, `image from node ${node}`);
      const job = await jobs.jobInfo(dom, disk);
      if (!job)
        throw new VmkitError('PROVIDER', `the copy of node ${node}'s disk ended before it was in sync`, {
          details: { node },
        });
      if (job.end > 0n && job.cur === job.end) break;
      const done = job.end > 0n ? Number(job.cur) / Number(job.end) : 0;
      options.progress(0.05 + 0.3 * done, `copying the running node's disk: ${Math.round(done * 100)}%`);
      await sleep(POLL_MS, options.signal);
    }
    let frozen: number;
    try {
      frozen = await jobs.fsFreeze(dom);
    } catch (error) {
      throw new VmkitError(
        'UNSUPPORTED',
        `node ${node} is running and its file systems could not be frozen through its guest agent ` +
          `(${error instanceof Error ? error.message : String(error)}): stop it first`,
        { cause: error, details: { node } },
      );
    }
    try {
      await jobs.jobAbort(dom, disk, 0);
      ended = true;
    } finally {
      await jobs.fsThaw(dom).catch((error: unknown) =>
        ctx.options.logger.warn('could not thaw the file systems of a node', {
          node,
          error: String(error),
        }),
      );
    }
    options.progress(0.35, `running node copied with ${frozen} file system(s) frozen for the copy's end`);
  } finally {
    if (!ended) await jobs.jobAbort(dom, disk, 0).catch(() => {});
  }
  await ctx.storage.refresh(options.signal);
  const made = await ctx.storage.find(volume);
  if (!made)
    throw new VmkitError('PROVIDER', `the copy ${volume} of node ${node} is not in pool ${ctx.storage.name}`);
  return made;
}
