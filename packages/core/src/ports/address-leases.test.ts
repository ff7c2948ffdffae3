import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addressLeaseFileName } from './lease-files.js';
import { PortAllocator } from './port-allocator.js';

const run = promisify(execFile);
const pool = (n: number) => Array.from({ length: n }, (_, i) => `10.77.0.${10 + i}`);
let dir: string;
let leaseDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-addr-'));
  leaseDir = join(dir, 'leases');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('address leases (the port lease store, for static guest addresses)', () => {
  it('never gives one address of a pool to two nodes, across two processes', async () => {
    const script = join(dir, 'lease.mts');
    const allocator = new URL('./port-allocator.ts', import.meta.url).pathname;
    await writeFile(
      script,
      `import { PortAllocator } from ${JSON.stringify(allocator)};
const a = new PortAllocator({ leaseDir: ${JSON.stringify(leaseDir)} });
const got = [];
for (let i = 0; i < 10; i++) {
  const claim = { owner: 'p' + process.pid + '/n' + i, attempt: 'a' + i };
  got.push(await a.leaseAddress(claim, 'network:lab', ${JSON.stringify(pool(24))}));
  await a.commit(claim);
}
console.log(JSON.stringify(got));`,
    );
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const outputs = await Promise.all([1, 2].map(() => run(tsx, [script])));
    const got = outputs.flatMap((o) => JSON.parse(o.stdout) as string[]);
    expect(got).toHaveLength(20);
    expect(new Set(got).size).toBe(20);
    // Taken lowest first: 20 of the 24, so the first 20.
    expect([...got].sort()).toEqual(pool(20).sort());
    const store = new PortAllocator({ leaseDir });
    expect(await store.freeAddresses('network:lab', pool(24))).toEqual(pool(24).slice(20));
    // Ports and addresses share the directory but not the listings.
    expect(await store.leases()).toEqual([]);
  }, 60_000);

  it('two stores on one directory: a held address is skipped, an exhausted pool gives none, one network does not hold another', async () => {
    const a = new PortAllocator({ leaseDir });
    const b = new PortAllocator({ leaseDir });
    const one = { owner: 'prov/a-1', attempt: 'x' };
    const two = { owner: 'prov/a-2', attempt: 'y' };
    expect(await a.leaseAddress(one, 'network:lab', pool(2))).toBe('10.77.0.10');
    expect(await b.leaseAddress(two, 'network:lab', pool(2))).toBe('10.77.0.11');
    expect(await b.leaseAddress({ owner: 'prov/a-3', attempt: 'z' }, 'network:lab', pool(2))).toBeUndefined();
    expect(await b.leaseAddress({ owner: 'prov/b-1', attempt: 'z' }, 'network:other', pool(2))).toBe(
      '10.77.0.10',
    );
    // A remote host's network of the same name is another network.
    expect(await b.freeAddresses('network:lab', pool(2), 'host-2')).toEqual(pool(2));
  });

  it('commits with the node, rolls back with its attempt, is released with its owner and reconciled when its node is gone', async () => {
    const a = new PortAllocator({ leaseDir, probe: false });
    const claim = { owner: 'prov/web-1', attempt: 'w' };
    await a.leaseAddress(claim, 'network:lab', pool(3));
    expect((await a.addressLeases()).map((l) => l.state)).toEqual(['pending']);
    await a.commit(claim);
    expect((await a.addressLeases()).map((l) => [l.address, l.state])).toEqual([['10.77.0.10', 'bound']]);
    await a.releaseOwner('prov/web-1');
    expect(await a.addressLeases()).toEqual([]);

    const failed = { owner: 'prov/web-2', attempt: 'f' };
    await a.lease(failed, 'tcp', '127.0.0.1', 'auto');
    await a.leaseAddress(failed, 'network:lab', pool(3));
    await a.releaseAttempt(failed);
    expect([await a.leases(), await a.addressLeases()]).toEqual([[], []]);

    const gone = { owner: 'prov/web-3', attempt: 'g' };
    await a.leaseAddress(gone, 'network:lab', pool(3));
    await a.commit(gone);
    expect(await a.reconcile('prov/', new Set())).toBe(1);
    expect(await a.addressLeases()).toEqual([]);
  });

  it('ignores a planted lease whose fields name another file: releasing its owner deletes nothing outside', async () => {
    const a = new PortAllocator({ leaseDir, probe: false });
    await a.addressLeases(); // makes the directory
    const outside = join(dir, 'precious.lease');
    const owner = 'prov/web-9';
    const planted = { owner, attempt: 'p', state: 'bound', scope: 'network:lab', address: '../precious' };
    await writeFile(outside, JSON.stringify(planted));
    await writeFile(join(leaseDir, 'ip-planted.lease'), JSON.stringify(planted));
    expect(await a.addressLeases()).toEqual([]);
    await a.releaseOwner(owner);
    expect(await a.reconcile('prov/', new Set())).toBe(0);
    await expect(run('test', ['-f', outside])).resolves.toBeDefined();
  });

  it("takes over a dead process's pending lease, keeps its bound one", async () => {
    await mkdir(leaseDir, { recursive: true });
    const deadPid = 2 ** 22 + 4243;
    const dead = (address: string, state: 'pending' | 'bound') =>
      writeFile(
        addressLeaseFileName(leaseDir, 'network:lab', address),
        JSON.stringify({
          address,
          scope: 'network:lab',
          owner: 'gone/x',
          attempt: 'q',
          pid: deadPid,
          state,
          at: 't',
        }),
      );
    await dead('10.77.0.10', 'bound');
    await dead('10.77.0.11', 'pending');
    const a = new PortAllocator({ leaseDir });
    expect(await a.freeAddresses('network:lab', pool(2))).toEqual(['10.77.0.11']);
    const claim = { owner: 'prov/n', attempt: 'n' };
    expect(await a.leaseAddress(claim, 'network:lab', pool(2))).toBe('10.77.0.11');
    expect((await a.addressLeases()).map((l) => [l.address, l.owner]).sort()).toEqual([
      ['10.77.0.10', 'gone/x'],
      ['10.77.0.11', 'prov/n'],
    ]);
  });
});
