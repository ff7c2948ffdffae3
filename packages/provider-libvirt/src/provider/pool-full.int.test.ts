import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { isNoSpaceError, type VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { domainsNamed, mountTmpfsPool, type TmpfsPool } from '../../test-support/tmpfs-pool.js';
import { libvirtProvider } from './libvirt-provider.js';

// Chaos: the pool's file system fills up (a dir pool on a small tmpfs, real QEMU under TCG).
// QEMU pauses a guest whose write finds no space; vmkit must notice at once, say which pool is
// full, leave nothing behind, and serve the next call once space is freed.

const URI = 'qemu:///system';
const MiB = 1024 * 1024;
const prefix = runPrefix('full');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-pool-full-'));
/** How long a node's start is watched (the guest fills its overlay a few seconds into its boot). */
const START_WATCH_MS = 30_000;

/**
 * The test guest, plus a post-install step that makes its nodes write 600 MiB to their root
 * disk at boot when their user data says `VMKIT-FILL` (before the boot marker, in root-init.sh).
 */
function fillerSpec(): MasterSpec {
  const hook =
    'grep -q VMKIT-FILL "$www/user-data" && { echo VMKIT-FILLING; dd if=/dev/zero of=/var/lib/vmkit/fill bs=1M count=600; sync; }';
  return {
    ...testGuestMasterSpec('filler'),
    postInstall: [
      {
        name: 'fill-hook',
        run: [
          'f=/vmkit/root-init.sh',
          `awk '/^# Boot marker on the root disk/ { print ${JSON.stringify(hook).replace(/'/g, "'\\''")} } { print }' $f > $f.new`,
          'grep -q VMKIT-FILLING $f.new',
          'chmod 0755 $f.new && mv $f.new $f',
        ].join('\n'),
      },
    ],
  };
}

/**
 * The test guest, plus a post-install step that writes 48 MiB into the master's disk: the build
 * fails in its post-install boot when the pool has less room left than that.
 */
const postFillSpec: MasterSpec = {
  ...testGuestMasterSpec('postfill'),
  postInstall: [{ name: 'fill', run: 'dd if=/dev/zero of=/fill bs=1M count=48 && sync' }],
};

let pool: TmpfsPool;
/** What the filler master's build took of the pool, in bytes. */
let buildBytes = 0;
let compute: ComputeService;

/** Waits for `promise`, failing the test after `ms` (so today's endless wait fails, not hangs). */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no outcome within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The no-space error of a call, checked to name the pool with its free and needed bytes. */
function expectNoSpace(error: unknown, cause: RegExp): VmkitError {
  expect(isNoSpaceError(error), String(error)).toBe(true);
  const e = error as VmkitError;
  console.info(e.message);
  expect(e.message).toMatch(new RegExp(`^disk full on pool ${pool.name}: `));
  expect(e.message).toMatch(cause);
  expect(e.details).toMatchObject({ reason: 'no-space', field: 'pool', pool: pool.name });
  expect(typeof e.details.freeBytes).toBe('number');
  return e;
}

/** The single node error of a `RunNodesError`. */
function nodeError(error: unknown): unknown {
  expect(error).toMatchObject({ name: 'RunNodesError', nodes: [] });
  const errors = (error as { errors: Array<{ error: unknown }> }).errors;
  expect(errors).toHaveLength(1);
  return errors[0]?.error;
}

describe('chaos: the pool fills up (tmpfs dir pool, qemu:///system)', () => {
  beforeAll(async () => {
    pool = mountTmpfsPool(URI, `${prefix}pool`, 160);
    compute = await createComputeService({
      provider: libvirtProvider({
        uri: URI,
        pool: pool.name,
        poolPath: pool.path,
        namePrefix: prefix,
        startWatchMs: START_WATCH_MS,
        installTimeoutMs: 600_000,
      }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [fillerSpec(), postFillSpec],
      ports: { leaseDir: join(dir, 'leases') },
    });
  });

  afterAll(async () => {
    await compute?.close();
    await pool?.close(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a build that cannot fit before any volume is made', async () => {
    pool.leaveFree(8 * MiB);
    const t0 = Date.now();
    const error = await compute.ensureImage('filler').catch((e: unknown) => e);
    const e = expectNoSpace(error, /refused before writing anything/);
    // The kernel and initrd (about 16 MB) and the disk's floor do not fit in 8 MiB.
    expect(e.details.neededBytes as number).toBeGreaterThan(e.details.freeBytes as number);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await pool.volumes()).toEqual([]);
    expect(await domainsNamed(URI, prefix)).toEqual([]);
  });

  it('ends a build whose installer fills the pool at once, naming the pool, and leaves nothing', async () => {
    // Room for the kernel, initrd and the disk's floor, not for the file system mke2fs writes.
    pool.leaveFree(36 * MiB);
    const t0 = Date.now();
    const error = await within(
      120_000,
      compute.ensureImage('filler').catch((e: unknown) => e),
    );
    const ms = Date.now() - t0;
    expectNoSpace(
      error,
      /installer \S+install-\S+ paused: a write to disk vda \(volume \S+\.qcow2\) found no space/,
    );
    // Well before the install timeout (10 minutes): the pause was noticed, not waited out.
    expect(ms).toBeLessThan(60_000);
    expect(await domainsNamed(URI, prefix)).toEqual([]);
    expect(await pool.volumes()).toEqual([]);
  });

  it('builds on the same service once space is freed', async () => {
    pool.dropBallast();
    const free = pool.freeBytes();
    const image = await compute.ensureImage('filler');
    expect(image.status).toBe('available');
    buildBytes = free - pool.freeBytes();
    expect(await domainsNamed(URI, prefix)).toEqual([]);
  });

  it('refuses a clone that cannot fit before any volume is made', async () => {
    const masterVolumes = await pool.volumes();
    pool.leaveFree(4 * MiB);
    const linked = await compute.createNodesInGroup('tight', 1, {}).catch((e: unknown) => e);
    expectNoSpace(nodeError(linked), /overlay volume \S+\.qcow2 \d+ bytes do not fit/);
    pool.leaveFree(64 * MiB);
    // A full copy needs the master's capacity (1 GiB).
    const full = await compute.createNodesInGroup('copy', 1, { linkedClone: false }).catch((e: unknown) => e);
    const e = expectNoSpace(nodeError(full), /full copy volume \S+\.qcow2/);
    expect(e.details.neededBytes).toBe(1024 * MiB);
    expect(await pool.volumes()).toEqual(masterVolumes);
    expect(await domainsNamed(URI, prefix)).toEqual([]);
    expect(await compute.listNodes()).toEqual([]);
  });

  it('fails a node whose guest fills its overlay during its start, naming the pool, and rolls it back', async () => {
    const masterVolumes = await pool.volumes();
    pool.leaveFree(40 * MiB);
    const t0 = Date.now();
    const error = await within(
      START_WATCH_MS + 30_000,
      compute.createNodesInGroup('fill', 1, { userData: 'VMKIT-FILL' }).catch((e: unknown) => e),
    );
    const ms = Date.now() - t0;
    expectNoSpace(
      nodeError(error),
      /node \S+fill-\S+ paused: a write to disk vda \(volume \S+\.qcow2\) found no space/,
    );
    // Noticed when the guest paused, not at the end of the start's watch.
    expect(ms).toBeLessThan(START_WATCH_MS);
    expect(await domainsNamed(URI, prefix)).toEqual([]);
    expect(await pool.volumes()).toEqual(masterVolumes);
    expect(await compute.listNodes()).toEqual([]);
  });

  it('creates a node on the same service once space is freed', async () => {
    pool.dropBallast();
    const [node] = await compute.createNodesInGroup('ok', 1, {});
    expect(node?.status).toBe('running');
    expect(await domainsNamed(URI, prefix)).toEqual([node?.id]);
    await compute.destroyNode(node!.id);
    expect(await domainsNamed(URI, prefix)).toEqual([]);
  });

  it('ends a build whose post-install boot fills the pool at once, naming the pool, and leaves nothing', async () => {
    const before = await pool.volumes();
    // Room for the installer's writes (what the filler's build took, and some), not for 48 MiB more.
    pool.leaveFree(buildBytes + 16 * MiB);
    const progress: string[] = [];
    const t0 = Date.now();
    const error = await within(
      180_000,
      compute
        .ensureImage(postFillSpec.id, { onProgress: (p) => progress.push(p.message ?? '') })
        .catch((e: unknown) => e),
    );
    const ms = Date.now() - t0;
    const e = expectNoSpace(
      error,
      /post-install boot \S+post-\S+ paused: a write to disk vda \(volume \S+\.qcow2\) found no space/,
    );
    expect(e.message).toMatch(/in step post-install|post-install boot/);
    // The installer had finished: the fault came in the post-install boot, not before.
    expect(progress.some((m) => /^post-install boot running/.test(m))).toBe(true);
    // Noticed when the guest paused, well before the post-install timeout.
    expect(ms).toBeLessThan(120_000);
    expect(await domainsNamed(URI, prefix)).toEqual([]);
    expect(await pool.volumes()).toEqual(before);
  });

  it('builds the image whose post-install boot filled the pool on the same service once space is freed', async () => {
    const before = await pool.volumes();
    pool.dropBallast();
    const image = await compute.ensureImage(postFillSpec.id);
    expect(image.status).toBe('available');
    expect(await domainsNamed(URI, prefix)).toEqual([]);
    const added = (await pool.volumes()).filter((v) => !before.includes(v));
    expect(added.map((v) => v.replace(/^.*m-vmkit-postfill-[0-9a-f]{8}-[0-9a-f]{4}/, 'M'))).toEqual([
      'M.initrd',
      'M.qcow2',
      'M.vmlinuz',
    ]);
  });
});
