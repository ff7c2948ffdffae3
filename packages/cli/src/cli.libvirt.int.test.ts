import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PortAllocator } from '@vmkit/core/internal';
import { afterAll, describe, expect, it } from 'vitest';
import { watchDomains } from '../../provider-libvirt/test-support/domain-watch.js';
import type { GuestPage } from '../../provider-libvirt/test-support/http.js';
import { leftovers, sweep } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix } from '../../provider-libvirt/test-support/test-guest.js';
import { LIBVIRT_POOL, LIBVIRT_URI, libvirtProject } from '../test-support/libvirt-project.js';
import { runCliProcess, spawnCli, VMKIT_BIN } from '../test-support/spawn-cli.js';

const URI = LIBVIRT_URI;
const POOL = LIBVIRT_POOL;
const prefix = runPrefix('c');
const dir = libvirtProject('int', prefix);
const leaseDir = join(dir, 'leases');
const cli = (...args: string[]) => runCliProcess(args, dir);
const leases = () => new PortAllocator({ leaseDir }).leases();

/** A host port free now, from the kernel (so a fixed `-p HOST:80` does not collide with others' runs). */
async function freeHostPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('the vmkit binary on qemu:///system with the test guest', () => {
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('Ctrl-C during the build of `up` rolls back: no domain, volume or lease; plain progress lines without a terminal', async () => {
    const watch = await watchDomains(URI, `${prefix}install-`);
    const up = spawnCli(['up', 'web', '-n', '1', '--port', '80'], dir);
    let installer: string;
    try {
      await up.waitForStderr(/build tiny 1\/7 create-and-install: /);
      installer = await watch.started(); // libvirt reports the installer domain started
    } finally {
      await watch.close();
    }
    // Interrupted with the installer running: what it made must be rolled back, not merely never made.
    expect(await leftovers(URI, prefix, POOL)).toMatchObject({ domains: [installer] });
    up.child.kill('SIGINT');
    const { code, stderr } = await up.done;
    expect(code).toBe(130);
    expect(stderr).toMatch(/SIGINT: stopping and rolling back/);
    expect(stderr).not.toContain('\u001b[');
    expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [] });
    expect(await leases()).toEqual([]);
    const images = JSON.parse((await cli('images', '--json')).stdout) as Array<{ status: string }>;
    expect(images[0]?.status).toBe('buildable');
  });

  it('draws a progress bar per build step on a pseudo-terminal', async () => {
    const { stdout } = await promisify(execFile)(
      'script',
      ['-qec', `${process.execPath} ${VMKIT_BIN} build tiny`, '/dev/null'],
      { cwd: dir, timeout: 240_000 },
    );
    expect(stdout).toContain('\u001b['); // cursor movement: bars redrawn in place
    expect(stdout).toMatch(/build tiny 1\/7 create-and-install \|[\u2588\u2591]{24}\| 100%/);
    expect(stdout).toMatch(/build tiny 7\/7 reset-identity \|[\u2588]{24}\| 100%/);
    expect(stdout).toMatch(/^tiny +available/m);
  });

  it('Ctrl-C while `up` clones leaves no node and no lease (the built master stays)', async () => {
    const up = spawnCli(['up', 'web', '-n', '2', '--port', '80'], dir);
    await up.waitForStderr(/^clone web-/m);
    up.child.kill('SIGINT');
    expect((await up.done).code).toBe(130);
    const left = await leftovers(URI, prefix, POOL);
    expect(left.domains).toEqual([]);
    expect(left.volumes.every((v) => v.startsWith(`${prefix}m-`))).toBe(true);
    expect(await leases()).toEqual([]);
    expect(JSON.parse((await cli('ls', '--json')).stdout)).toEqual([]);
  });

  it('up -p HOST:80 -p 53/udp --wait=http:/ → the page answers at once through HOST → destroy --if-exists twice → prune leaves nothing', async () => {
    const userData = join(dir, 'user-data');
    writeFileSync(userData, 'hello from the vmkit command');
    const port = await freeHostPort();
    const up = await cli(
      'up',
      'web',
      '-n',
      '1',
      '-p',
      `${port}:80`,
      '-p',
      '53/udp',
      '--wait=http:/',
      '--wait-timeout',
      '5m',
      '--user-data',
      userData,
    );
    expect(up.code, up.stderr).toBe(0);
    // --wait returned only after the page answered: one request, no retry, must succeed now.
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    const page = (await res.json()) as GuestPage;
    const printed = new RegExp(
      `^(web-[0-9a-f]{4}) +web +tiny +running +\\S+ +127\\.0\\.0\\.1:${port}->80/tcp,127\\.0\\.0\\.1:\\d+->53/udp$`,
      'm',
    ).exec(up.stdout);
    expect(printed, up.stdout).not.toBeNull();
    const [, name] = printed as RegExpExecArray;
    const listed = JSON.parse((await cli('ls', '--json')).stdout) as Array<{
      name: string;
      hostPorts: Record<string, number>;
    }>;
    expect(listed.map((n) => n.name)).toEqual([name]);
    expect(listed[0]?.hostPorts['tcp-80']).toBe(port);
    expect(page.userData).toBe('hello from the vmkit command');
    expect(page.hostname).toBe(name);

    const first = await cli('destroy', 'web', '--if-exists', '--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual([expect.objectContaining({ name, group: 'web' })]);
    const second = await cli('destroy', 'web', '--if-exists', '--json');
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual([]);
    const pruned = JSON.parse((await cli('prune', '--json')).stdout) as {
      removed: Array<{ kind: string; id: string }>;
    };
    expect(pruned.removed).toEqual([expect.objectContaining({ kind: 'image', id: 'tiny' })]);
    expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [] });
    expect(await leases()).toEqual([]);
    const df = JSON.parse((await cli('df', '--json')).stdout) as { total: { allocatedBytes: number } };
    expect(df.total.allocatedBytes).toBe(0);
    const gone = await cli('destroy', 'web');
    expect(gone.code).toBe(3);
    expect(gone.stderr).toBe('vmkit: no node or group named web (--if-exists makes that not an error)\n');
  });
});
