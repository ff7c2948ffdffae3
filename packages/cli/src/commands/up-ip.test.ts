import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeNode, useFakeService } from '../../test-support/fake-guest-service.js';
import { runCli } from '../../test-support/run-cli.js';

vi.mock('../runtime/open-service.js', () =>
  import('../../test-support/fake-guest-service.js').then((m) => m.fakeOpenServiceModule()),
);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-up-ip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('vmkit up --ip', () => {
  it('asks for a host-only NIC with the pool after the NAT NIC that carries -p', async () => {
    const fake = useFakeService([fakeNode('db-0001'), fakeNode('db-0002')]);
    const run = await runCli(
      [
        '--store',
        dir,
        'up',
        'db',
        '-n',
        '2',
        '-p',
        '22',
        '--ip',
        'lab=192.168.50.10-192.168.50.19/24,gateway=192.168.50.1',
      ],
      dir,
    );
    expect(run.code, run.stderr).toBe(0);
    const [options] = fake.calls.find((c) => c.method === 'templateOptions')?.args ?? [];
    expect(options).toEqual({
      inboundPorts: [22],
      network: {
        nics: [
          { attachment: 'nat' },
          {
            attachment: 'hostOnly',
            network: 'lab',
            ipv4: { pool: '192.168.50.10-192.168.50.19/24', gateway: '192.168.50.1' },
          },
        ],
      },
    });
  });

  it('refuses a value of another shape: exit 2 naming --ip and its rule', async () => {
    useFakeService([fakeNode('db-0001')]);
    const run = await runCli(['--store', dir, 'up', 'db', '-n', '1', '--ip', '192.168.50.10/24'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--ip.*must be NETWORK=ADDRESS\/PREFIX or NETWORK=FIRST-LAST\/PREFIX/);
  });
});
