import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PortAllocator } from '@vmkit/core/internal';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix } from '../../provider-libvirt/test-support/test-guest.js';
import { LIBVIRT_POOL, LIBVIRT_URI, libvirtProject } from '../test-support/libvirt-project.js';
import { runCliProcess, spawnCli } from '../test-support/spawn-cli.js';

const URI = LIBVIRT_URI;
const POOL = LIBVIRT_POOL;
const prefix = runPrefix('u');
const dir = libvirtProject('eph', prefix);
const leases = () => new PortAllocator({ leaseDir: join(dir, 'leases') }).leases();

describe('vmkit up --ephemeral on qemu:///system with the test guest', () => {
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its nodes while it runs (another vmkit command leaves them), and SIGTERM destroys them with their leases', async () => {
    const up = spawnCli(['up', 'web', '-n', '2', '--port', '80', '--ephemeral'], dir);
    for (let i = 0; !/^web-/m.test(up.out.stdout); i++) {
      if (i > 2400 || up.child.exitCode !== null) throw new Error(`up printed no nodes: ${up.out.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const running = await leftovers(URI, prefix, POOL);
    expect(running.domains).toHaveLength(2);
    // Another process starts a service on the store (which reaps dead owners' nodes) and reaps.
    const ls = JSON.parse((await runCliProcess(['ls', '--json'], dir)).stdout) as unknown[];
    expect(ls).toHaveLength(2);
    expect((await runCliProcess(['reap'], dir)).stdout).toBe('nothing to reap\n');
    expect((await leftovers(URI, prefix, POOL)).domains).toEqual(running.domains);
    up.child.kill('SIGTERM');
    const { code } = await up.done;
    expect(code).toBe(0);
    const left = await leftovers(URI, prefix, POOL);
    expect(left.domains).toEqual([]);
    expect(left.volumes.every((v) => v.startsWith(`${prefix}m-`))).toBe(true); // only the master's
    expect(await leases()).toEqual([]);
  }, 300_000);
});
