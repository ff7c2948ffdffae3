import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService, type MasterSpec, type ProgressEvent } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FixtureChild } from '../../../core/src/compute/process-fixture.fixture.js';
import { spawnBuildChild } from '../../test-support/build-child.js';
import { BUILD_LEASES, lapsed, newestLeases, untilLapsed } from '../../test-support/lease-watch.js';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '../../test-support/private-libvirtd.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { libvirtProvider } from './libvirt-provider.js';

// The builds are SIGKILLed in the middle of RPC calls. On the machine's shared libvirtd that once
// took the daemon down (libvirtd 9.0 segfaulted seconds after such a kill, failing every other test
// file running then), so this file has a daemon of its own (test-support/private-libvirtd.ts).
let daemon: PrivateLibvirtd;
let URI = '';
let POOL = '';
/** The build lease TTL: long enough for a service start to run well inside it on a loaded machine. */
const TTL = 5000;
const prefix = runPrefix('k');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-crash-'));
const spec: MasterSpec = {
  ...testGuestMasterSpec('crash-guest'),
  postInstall: [{ name: 'mark', run: 'echo built > /etc/vmkit-mark' }],
};
const store = () => fileSystemBlobStore({ root: join(dir, 'store') });
const buildLease = { ttlMs: TTL };

/** The progress of an upload into a pool volume that has sent bytes: `uploading <volume>: <n> bytes`. */
const UPLOADING = /^uploading (\S+): [1-9]\d* bytes$/;

/** Kill points: the child's progress event after which it is killed with SIGKILL. */
const POINTS: ReadonlyArray<{ name: string; at: (e: ProgressEvent) => boolean }> = [
  { name: 'upload of the kernel and initrd', at: (e) => UPLOADING.test(e.message) },
  { name: 'install', at: (e) => /^installer running [2-9]/.test(e.message) },
  { name: 'post-install', at: (e) => /^post-install boot running [2-9]/.test(e.message) },
];

describe('crash recovery and one build across processes on a private libvirtd (test guest)', () => {
  beforeAll(async () => {
    daemon = await startPrivateLibvirtd('crash');
    URI = daemon.uri;
    POOL = daemon.pool;
  }, 120_000);
  let children: FixtureChild[] = [];
  const run = (tmp: string) => {
    const child = spawnBuildChild({ uri: URI, pool: POOL, prefix, dir, spec, ttlMs: TTL, tmp });
    children.push(child);
    return child;
  };
  const leaseBlobs = async () => (await store().list(BUILD_LEASES)).items.map((i) => i.name);
  afterEach(() => {
    for (const c of children) c.child.kill('SIGKILL');
    children = [];
  });
  afterAll(async () => {
    if (daemon) {
      await sweep(URI, prefix, POOL).catch(() => {});
      await daemon.dispose();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a build killed during upload, install or post-install leaves nothing once a service restarts; then two processes build the image once', async () => {
    for (const [i, point] of POINTS.entries()) {
      const tmp = join(dir, `tmp-${i}`);
      const child = run(tmp);
      const seen = await child.waitFor((l) => l.event !== undefined && point.at(l.event as ProgressEvent));
      child.child.kill('SIGKILL');
      await child.exited;
      const left = await leftovers(URI, prefix, POOL);
      const uploading = UPLOADING.exec((seen.event as ProgressEvent).message)?.[1];
      if (uploading) {
        // Killed with bytes sent into a volume, before the installer was defined: the volume
        // being written (and the master's disk made before it) exist, no build domain yet.
        expect(left.volumes, point.name).toContain(uploading);
        expect(left.volumes.length, point.name).toBeGreaterThanOrEqual(2);
        expect(left.domains, point.name).toEqual([]);
        const messages = child.lines.map((l) => (l.event as ProgressEvent | undefined)?.message);
        expect(messages, point.name).not.toContain('installer defined');
      }
      // From the install on, the build domain(s): the installer, then also the post-install boot.
      if (i > 0) expect(left.domains.length, point.name).toBeGreaterThanOrEqual(1);
      // While the dead builder's lease has not lapsed, a restart leaves its artefacts alone.
      const leases = await newestLeases(store(), BUILD_LEASES);
      expect(leases, point.name).toHaveLength(1);
      await (await createComputeService(service())).close();
      expect(lapsed(leases[0]!), `${point.name}: the restart ran after the lease lapsed`).toBe(false);
      expect(await leftovers(URI, prefix, POOL), point.name).toEqual(left);
      // Once the store shows the lease lapsed (its last renewal expired), a restart cleans up.
      await untilLapsed(store(), BUILD_LEASES, leases[0]!.imageId);
      await (await createComputeService(service())).close();
      expect(await leftovers(URI, prefix, POOL), point.name).toEqual({ domains: [], volumes: [] });
      expect(await leaseBlobs(), point.name).toEqual([]);
      expect(readdirSync(tmp), point.name).toEqual([]);
    }

    const [a, b] = [run(join(dir, 'tmp-a')), run(join(dir, 'tmp-b'))];
    for (const e of await Promise.all([a.exited, b.exited])) expect(e.code, e.stderr).toBe(0);
    const done = async (c: FixtureChild) => (await c.waitFor((l) => 'done' in l)).done as { builtAt: string };
    expect((await done(a)).builtAt).toBe((await done(b)).builtAt);
    const waiting = (c: FixtureChild) =>
      c.lines.some((l) =>
        /waiting for the build lease held by/.test(String((l.event as ProgressEvent)?.message)),
      );
    expect([a, b].filter(waiting)).toHaveLength(1);
    const left = await leftovers(URI, prefix, POOL);
    expect(left.domains).toEqual([]);
    // One master: its disk, kernel and initrd, all of one master name.
    expect(left.volumes).toHaveLength(3);
    expect(new Set(left.volumes.map((v) => v.replace(/\.[a-z0-9]+$/, ''))).size).toBe(1);
    expect(await leaseBlobs()).toEqual([]);
    await using compute = await createComputeService(service());
    expect((await compute.getImage(spec.id))?.status).toBe('available');
  }, 600_000); // three killed builds, a whole build with its post-install boot, under TCG: 4 min here
});

function service() {
  return {
    provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
    store: store(),
    images: [spec],
    ports: { leaseDir: join(dir, 'ports'), probe: false },
    buildLease,
  };
}
