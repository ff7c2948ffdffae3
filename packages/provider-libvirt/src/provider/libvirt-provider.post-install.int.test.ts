import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService, type MasterSpec, type ProgressEvent } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { runMasterBuild, VmkitError } from '@vmkit/core/spi';
import { afterAll, describe, expect, it } from 'vitest';
import { waitForGuestPage } from '../../test-support/http.js';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { postInstallBuildOutcomes, stepOutcomes } from '../../test-support/step-outcomes.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { libvirtProvider } from './libvirt-provider.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('p');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-post-'));

/** Polls `url` until it answers 200, returning the body. */
async function waitForText(url: string, timeoutMs = 90_000): Promise<string> {
  const start = Date.now();
  let last: unknown;
  while (Date.now() - start < timeoutMs) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return await res.text();
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms: ${String(last)}`);
}

describe('libvirt post-install steps on qemu:///system (test guest)', () => {
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the steps in order in the master; a node cloned from it serves what they wrote; nothing temporary is left', async () => {
    const spec: MasterSpec = {
      ...testGuestMasterSpec('post-guest'),
      postInstall: [
        {
          name: 'write-greeting',
          run: 'mkdir -p /etc/vmkit-post\necho "hello from step one" > /etc/vmkit-post/greeting',
        },
        {
          name: 'append-greeting',
          run: '#!/bin/sh -e\necho "and from step two" >> /etc/vmkit-post/greeting',
        },
      ],
    };
    const events: ProgressEvent[] = [];
    await using compute = await createComputeService({
      provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [spec],
      ports: { leaseDir: join(dir, 'leases') },
    });
    const t0 = Date.now();
    const image = await compute.ensureImage('post-guest', { onProgress: (e) => events.push(e) });
    const buildMs = Date.now() - t0;
    expect(image.status).toBe('available');
    expect(events.some((e) => e.step === 'post-install' && /2 step\(s\) succeeded/.test(e.message))).toBe(
      true,
    );
    // The guest clean-up ran after the steps: the installed guest's /etc/hostname was reset
    // (done); it has no persistent NIC rules or leases (skipped); nothing is attached to a volume.
    expect(stepOutcomes(events)).toEqual(
      postInstallBuildOutcomes({ cleanUdevRules: 'skipped', resetIdentity: 'done' }),
    );
    expect(
      events.some((e) => e.step === 'reset-identity' && e.message === 'reset-identity: /etc/hostname'),
    ).toBe(true);
    // The post-install domain, its drive and console log are gone; the master's volumes stay.
    expect(await leftovers(URI, `${prefix}post-`, POOL)).toEqual({ domains: [], volumes: [] });
    expect(await leftovers(URI, `${prefix}install-`, POOL)).toEqual({ domains: [], volumes: [] });

    const [node] = await compute.createNodesInGroup('post', 1, {
      inboundPorts: [80],
      hardware: { ramMiB: 320, cores: 2 },
    });
    const port = node!.hostPorts['tcp-80'];
    // The hardware asked for, as the guest sees it (MemTotal is a little below the RAM size).
    const { page } = await waitForGuestPage(`http://127.0.0.1:${port}/`);
    expect(page.cpus).toBe(2);
    expect(page.memTotalKiB).toBeLessThanOrEqual(320 * 1024);
    expect(page.memTotalKiB).toBeGreaterThan(320 * 1024 * 0.8);
    const t1 = Date.now();
    expect(await waitForText(`http://127.0.0.1:${port}/post/greeting`)).toBe(
      'hello from step one\nand from step two\n',
    );
    console.info(`post-install master build ${buildMs} ms; node to GET /post/greeting ${Date.now() - t1} ms`);
    await compute.destroyNode(node!.id);
  });

  it('fails the build naming the failed step and its rc, and leaves no domain or volume behind', async () => {
    const provider = libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix });
    const spec: MasterSpec = {
      ...testGuestMasterSpec('post-bad'),
      postInstall: [
        { name: 'fine', run: 'echo fine' },
        { name: 'broken', run: 'echo "something went wrong"\nexit 3' },
        { name: 'after', run: 'touch /etc/never' },
      ],
    };
    const error = await runMasterBuild(provider, spec, 'post-bad').catch((e: unknown) => e);
    expect(VmkitError.is(error, 'PROVIDER')).toBe(true);
    expect((error as VmkitError).message).toMatch(
      /^post-install step broken failed with rc 3; last console lines:\n(.*\n)*something went wrong/,
    );
    expect((error as VmkitError).details).toMatchObject({ step: 'broken', rc: 3 });
    expect(await leftovers(URI, `${prefix}m-post-bad`, POOL)).toEqual({ domains: [], volumes: [] });
    expect(await leftovers(URI, `${prefix}post-post-bad`, POOL)).toEqual({ domains: [], volumes: [] });
    expect(await leftovers(URI, `${prefix}install-post-bad`, POOL)).toEqual({ domains: [], volumes: [] });
    await provider.close();
  });
});
