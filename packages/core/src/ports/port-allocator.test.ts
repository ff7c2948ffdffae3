import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { PortAllocator } from './port-allocator.js';
import { canBind } from './port-probe.js';

const run = promisify(execFile);
/** A claim whose attempt token is derived from the owner, for tests with one attempt per owner. */
const c = (owner: string) => ({ owner, attempt: `attempt-of-${owner}` });
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-ports-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PortAllocator', () => {
  it('never hands the same port to two owners, also across processes', async () => {
    const leaseDir = join(dir, 'leases');
    const script = join(dir, 'lease.mts');
    const allocator = new URL('./port-allocator.ts', import.meta.url).pathname;
    await writeFile(
      script,
      `import { PortAllocator } from ${JSON.stringify(allocator)};
const a = new PortAllocator({ leaseDir: ${JSON.stringify(leaseDir)}, range: [41000, 41059], probe: false });
const ports = [];
for (let i = 0; i < 20; i++) {
  const claim = { owner: 'p' + process.pid + '/n' + i, attempt: 'a' + i };
  ports.push(await a.lease(claim, 'tcp', '127.0.0.1', 'auto'));
  await a.commit(claim);
}
console.log(JSON.stringify(ports));`,
    );
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const outputs = await Promise.all([1, 2, 3].map(() => run(tsx, [script])));
    const ports = outputs.flatMap((o) => JSON.parse(o.stdout) as number[]);
    expect(ports).toHaveLength(60);
    expect(new Set(ports).size).toBe(60);
    // The range is now exhausted: a fourth owner gets a clear CONFLICT.
    const a = new PortAllocator({ leaseDir, range: [41000, 41059], probe: false });
    await expect(a.lease(c('late/x'), 'tcp', '127.0.0.1', 'auto')).rejects.toSatisfy((e) =>
      VmkitError.is(e, 'CONFLICT'),
    );
  }, 60_000);

  it('reclaims pending leases of dead processes but respects bound ones', async () => {
    const leaseDir = join(dir, 'leases');
    const a = new PortAllocator({ leaseDir, range: [42000, 42001], probe: false });
    const deadPid = 2 ** 22 + 12345;
    await a.lease(c('x/one'), 'tcp', '127.0.0.1', 42000);
    await a.commit(c('x/one'));
    await writeFile(
      join(leaseDir, 'tcp-42001.lease'),
      JSON.stringify({
        port: 42001,
        protocol: 'tcp',
        owner: 'y/dead',
        pid: deadPid,
        state: 'pending',
        at: '',
      }),
    );
    expect(await a.lease(c('z/new'), 'tcp', '127.0.0.1', 'auto')).toBe(42001);
    await expect(a.lease(c('z/other'), 'tcp', '127.0.0.1', 42000)).rejects.toSatisfy((e) =>
      VmkitError.is(e, 'CONFLICT'),
    );
  });

  it('skips ports that something else already listens on', async () => {
    // A port the system chose (a fixed one may be some connection's ephemeral port), whose
    // neighbour is free: the range is those two, and the first is taken.
    const { server, port } = await listenBesideAFreePort();
    try {
      const a = new PortAllocator({ leaseDir: join(dir, 'l'), range: [port, port + 1] });
      expect(await a.lease(c('n/a'), 'tcp', '127.0.0.1', 'auto')).toBe(port + 1);
    } finally {
      server.close();
    }
  });

  it('releases by owner and reconciles leases of nodes that are gone', async () => {
    const a = new PortAllocator({ leaseDir: join(dir, 'l'), range: [44000, 44010], probe: false });
    await a.lease(c('prov/a'), 'tcp', '127.0.0.1', 'auto');
    await a.lease(c('prov/b'), 'udp', '127.0.0.1', 'auto');
    await a.commit(c('prov/a'));
    await a.commit(c('prov/b'));
    await a.lease(c('other/c'), 'tcp', '127.0.0.1', 'auto');
    await a.commit(c('other/c'));
    expect(await a.reconcile('prov/', new Set(['prov/a']))).toBe(1);
    expect((await a.leases()).map((l) => l.owner).sort()).toEqual(['other/c', 'prov/a']);
    await a.releaseOwner('prov/a');
    expect((await a.leases()).map((l) => l.owner)).toEqual(['other/c']);
  });

  it('lets exactly one process take over each lease of a dead process', async () => {
    const leaseDir = join(dir, 'leases');
    const deadPid = 2 ** 22 + 4242;
    const { mkdir } = await import('node:fs/promises');
    await mkdir(leaseDir, { recursive: true });
    for (let port = 45000; port < 45300; port++) {
      await writeFile(
        join(leaseDir, `tcp-${port}.lease`),
        JSON.stringify({
          port,
          protocol: 'tcp',
          owner: 'gone/x',
          attempt: 'q',
          pid: deadPid,
          state: 'pending',
          at: 't',
        }),
      );
    }
    const script = join(dir, 'takeover.mts');
    const allocator = new URL('./port-allocator.ts', import.meta.url).pathname;
    await writeFile(
      script,
      `import { PortAllocator } from ${JSON.stringify(allocator)};
const a = new PortAllocator({ leaseDir: ${JSON.stringify(leaseDir)}, range: [45000, 45299], probe: false });
const ports = [];
for (let i = 0; i < 75; i++) {
  const claim = { owner: 'p' + process.pid + '/n' + i, attempt: 'a' };
  ports.push(await a.lease(claim, 'tcp', '127.0.0.1', 'auto'));
  await a.commit(claim);
}
console.log(JSON.stringify(ports));`,
    );
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const outputs = await Promise.all([1, 2, 3, 4].map(() => run(tsx, [script])));
    const ports = outputs.flatMap((o) => JSON.parse(o.stdout) as number[]);
    expect(new Set(ports).size).toBe(300);
  }, 60_000);

  it("keeps another attempt's leases when one attempt for the same node name is rolled back", async () => {
    const a = new PortAllocator({ leaseDir: join(dir, 'l'), range: [46000, 46010], probe: false });
    const winner = { owner: 'prov/web-1', attempt: 'w' };
    const loser = { owner: 'prov/web-1', attempt: 'l' };
    const port = await a.lease(winner, 'tcp', '127.0.0.1', 'auto');
    await a.lease(loser, 'tcp', '127.0.0.1', 'auto');
    await a.commit(winner);
    await a.releaseAttempt(loser);
    expect((await a.leases()).map((l) => [l.port, l.attempt, l.state])).toEqual([[port, 'w', 'bound']]);
  });

  it('refuses a host address this machine does not have, naming hostIp', async () => {
    const a = new PortAllocator({ leaseDir: join(dir, 'l'), range: [47000, 47010] });
    await expect(a.lease(c('x/y'), 'tcp', '192.0.2.10', 'auto')).rejects.toThrow(/^hostIp: /);
  });

  it('validates its range', () => {
    expect(() => new PortAllocator({ range: [80, 90] })).toThrow(/ports\.range/);
    expect(() => new PortAllocator({ range: [3000, 2000] })).toThrow(/ports\.range/);
  });
});

async function listenBesideAFreePort(): Promise<{ server: Server; port: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const port = (server.address() as AddressInfo).port;
    if (port < 65535 && (await canBind('tcp', '127.0.0.1', port + 1))) return { server, port };
    server.close();
  }
  throw new Error('no port with a free neighbour on 127.0.0.1');
}
