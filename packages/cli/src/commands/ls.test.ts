import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeNic, fakeNode, useFakeService } from '../../test-support/fake-guest-service.js';
import { runCli } from '../../test-support/run-cli.js';

vi.mock('../runtime/open-service.js', () =>
  import('../../test-support/fake-guest-service.js').then((m) => m.fakeOpenServiceModule()),
);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-ls-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const web = fakeNode('web-1a2b', {
  network: {
    nics: [
      fakeNic(0, [{ guestPort: 80, hostPort: 20080 }]),
      fakeNic(1, [], { attachment: 'bridged', network: 'lab' }),
      fakeNic(2, [], { attachment: 'bridged', network: 'lab' }),
    ],
  },
  privateAddresses: ['10.0.2.15', '192.168.150.7'],
  publicAddresses: ['203.0.113.9'],
  nicAddresses: [
    { slot: 0, mac: '52:54:00:00:00:01', addresses: ['10.0.2.15'], source: 'agent' },
    { slot: 1, mac: '52:54:00:00:00:02', addresses: ['192.168.150.7', '203.0.113.9'], source: 'lease' },
    { slot: 2, mac: '52:54:00:00:00:03' },
  ],
  login: { user: 'debian', password: 'PASSWORD-SECRET', privateKey: 'KEY-SECRET', authenticateSudo: true },
});
const bare = fakeNode('db-0001', { status: 'stopped' });

describe('vmkit ls', () => {
  it('shows each node with its addresses, - when none is known', async () => {
    useFakeService([web, bare]);
    const run = await runCli(['--store', dir, 'ls'], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/^NODE +GROUP +IMAGE +STATUS +ADDRESSES +PORTS$/);
    expect(run.stdout).toMatch(
      /^web-1a2b +web +tiny +running +10\.0\.2\.15,192\.168\.150\.7,203\.0\.113\.9 +127\.0\.0\.1:20080->80\/tcp$/m,
    );
    expect(run.stdout).toMatch(/^db-0001 +db +tiny +stopped +- +-$/m);
  });

  it('--json carries the addresses and each NIC (one not known yet without any), and no login secret', async () => {
    useFakeService([web]);
    const run = await runCli(['--store', dir, 'ls', '--json'], dir);
    expect(run.code, run.stderr).toBe(0);
    const [node] = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    expect(node).toMatchObject({
      privateAddresses: web.privateAddresses,
      publicAddresses: web.publicAddresses,
      nicAddresses: web.nicAddresses,
      login: { user: 'debian', authenticateSudo: true },
    });
    expect((node?.nicAddresses as Array<Record<string, unknown>> | undefined)?.[2]).toEqual({
      slot: 2,
      mac: '52:54:00:00:00:03',
    });
    expect(run.stdout).not.toMatch(/SECRET|password|privateKey/);
  });
});
