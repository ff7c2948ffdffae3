import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService, type ProgressEvent } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FixtureChild } from '../../../core/src/compute/process-fixture.fixture.js';
import { spawnBuildChild } from '../../test-support/build-child.js';
import { BUILD_LEASES, lapsed, newestLeases } from '../../test-support/lease-watch.js';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '../../test-support/private-libvirtd.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { libvirtProvider } from './libvirt-provider.js';

// A builder is SIGKILLed in the middle of its RPC calls: on a daemon of this file's own, as in
// crash-recovery.int.test.ts (the shared libvirtd once segfaulted after such a kill).
let daemon: PrivateLibvirtd;
let URI = '';
let POOL = '';
/**
 * The build lease TTL: long enough that the second process's start-up (node, imports, connecting,
 * start-up recovery) runs well inside the dead holder's last lease on a loaded machine.
 */
const TTL = 12_000;
const prefix = runPrefix('t');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-takeover-'));
const spec = testGuestMasterSpec('takeover-guest');
const store = () => fileSystemBlobStore({ root: join(dir, 'store') });

describe('a lapsed build lease taken over on a private libvirtd (test guest)', () => {
  beforeAll(async () => {
    daemon = await startPrivateLibvirtd('takeover');
    URI = daemon.uri;
    POOL = daemon.pool;
  }, 120_000);
  let children: FixtureChild[] = [];
  const run = (name: string) => {
    const tmp = join(dir, `tmp-${name}`);
    const child = spawnBuildChild({ uri: URI, pool: POOL, prefix, dir, spec, ttlMs: TTL, tmp });
    children.push(child);
    return child;
  };
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

  it('the process that takes over the lease of a builder killed mid-install removes what it left, without a second restart', async () => {
    const dead = run('dead');
    await dead.waitFor((l) =>
      /^installer running/.test(String((l.event as ProgressEvent | undefined)?.message)),
    );
    // The installer domain exists (libvirt says so): kill the builder, and start the next one at once.
    const left = await leftovers(URI, prefix, POOL);
    expect(left.domains).toHaveLength(1);
    dead.child.kill('SIGKILL');
    await dead.exited;
    const taker = run('taker');
    const [lease] = await newestLeases(store(), BUILD_LEASES);
    expect(lapsed(lease!), 'the dead builder lease lapsed before the taker started').toBe(false);
    // Installer domain, the master's disk, kernel and initrd, the installer's console log.
    const all = await leftovers(URI, prefix, POOL);
    expect(all.volumes.length).toBeGreaterThanOrEqual(4);
    expect(all.volumes.some((v) => v.endsWith('.log'))).toBe(true);

    const exit = await taker.exited;
    expect(exit.code, exit.stderr).toBe(0);
    const messages = taker.lines.map((l) => String((l.event as ProgressEvent | undefined)?.message));
    // It started (and ran start-up recovery) while the dead builder's lease was live, so it waited.
    expect(messages.some((m) => m.startsWith('waiting for the build lease held by'))).toBe(true);
    // Once it has built, and before anything else starts: only its own master is left.
    const after = await leftovers(URI, prefix, POOL);
    expect(after.domains).toEqual([]);
    for (const name of [...all.domains, ...all.volumes]) expect([...after.volumes], name).not.toContain(name);
    expect(after.volumes).toHaveLength(3);
    expect(new Set(after.volumes.map((v) => v.replace(/\.[a-z0-9]+$/, ''))).size).toBe(1);

    // Then a node from it, destroyed, and the image deleted: nothing of the prefix remains.
    await using compute = await createComputeService({
      provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
      store: store(),
      images: [spec],
      ports: { leaseDir: join(dir, 'ports'), probe: false },
      buildLease: { ttlMs: TTL },
    });
    const [node] = await compute.createNodesInGroup('tk', 1);
    await compute.destroyNode(node!.id);
    await compute.deleteImage(spec.id);
    expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [] });
  }, 300_000);
});
