import { describeProviderContract } from '@vmkit/core/contract';
import { afterAll, expect, it } from 'vitest';
import { isoMasterSpec, testProvider, type VboxTestEnv, vboxTestEnv } from '../../test-support/vbox-env.js';

let env: VboxTestEnv | undefined;

// The host's interfaces as the simulated VirtualBox reports them (IHost.getNetworkInterfaces).
const HOST_INTERFACES = [
  { name: 'eth0', type: 'Bridged', ip: '192.0.2.10' },
  { name: 'vboxnet0', type: 'HostOnly', ip: '192.168.56.1' },
  { name: 'vboxnet1', type: 'HostOnly', up: false },
] as const;

const GUEST_LOGIN = {
  user: process.env.VMKIT_VBOX_GUEST_USER ?? 'root',
  password: process.env.VMKIT_VBOX_GUEST_PASSWORD ?? 'contract-guest-pw',
};

describeProviderContract(
  process.env.VMKIT_VBOX_URL ? 'virtualbox (real vboxwebsrv)' : 'virtualbox (vboxwebsrv simulator)',
  async () => {
    // The contract asks for a second provider: same simulator. Its guests take the Guest Control
    // login the provider is given (a real guest needs that user: VMKIT_VBOX_GUEST_USER/PASSWORD).
    env ??= await vboxTestEnv({
      hostInterfaces: HOST_INTERFACES,
      behaviour: { guestLogins: { [GUEST_LOGIN.user]: GUEST_LOGIN.password } },
    });
    const sim = env.sim;
    return {
      provider: testProvider(env, { guestLogin: GUEST_LOGIN }),
      agentTimeoutMs: sim ? 20_000 : 300_000,
      masterSpec: await isoMasterSpec(env, 'vbox-contract'),
      expectedCapabilities: {
        linkedClones: true,
        portForwarding: true,
        suspend: true,
        dataVolumes: false,
        guestAgent: true,
        sharedFolders: 'vboxsf',
      },
      hostNetworks: async () => [
        { name: 'NAT', kind: 'nat' },
        { name: 'eth0', kind: 'bridge', up: true, addresses: ['192.0.2.10/24'] },
        { name: 'vboxnet0', kind: 'hostOnly', up: true },
        { name: 'vboxnet1', kind: 'hostOnly', up: false },
      ],
      // The simulator records one write per disk at every power-on and reset of a machine: a boot.
      bootId: async (id) => {
        if (!sim)
          throw new Error('the reboot probe needs the simulator (a real guest would report its boot id)');
        return String(sim.writes().filter((w) => w.machine === id).length);
      },
      ...(sim
        ? {
            // The machine's shared folders as the simulated VirtualBox holds them.
            sharedFolders: async (id: string) =>
              (sim.machines().find((m) => m.name === id)?.sharedFolders ?? []).map((f) => ({
                tag: f.name,
                hostPath: f.hostPath,
                readOnly: !f.writable,
              })),
            leftovers: async () => [
              ...sim.machines().map((m) => `machine:${m.name}`),
              ...sim.media().map((m) => `medium:${m.location}`),
            ],
          }
        : {}),
    };
  },
);

it('leaves no rejected request, locked machine or stray medium behind', () => {
  const sim = env?.sim;
  if (sim) {
    expect(sim.rejections).toEqual([]);
    expect(sim.machines().filter((m) => m.locked)).toEqual([]);
    expect(sim.machines().map((m) => m.name)).toEqual([]);
    expect(sim.media()).toEqual([]);
    expect(sim.writes().filter((w) => w.corrupting)).toEqual([]);
    expect(sim.requestCount).toBeGreaterThan(50);
    // The provider logged off on close: no websession (and so no reference) is left.
    expect(sim.websessions).toEqual({ count: 0, references: 0 });
  }
});

afterAll(async () => {
  await env?.close();
});
