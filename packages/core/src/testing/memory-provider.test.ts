import { describeProviderContract } from '../contract/describe-provider-contract.js';
import type { ProviderContractSubject } from '../contract/provider-contract-subject.js';
import { HostGuestAgent } from '../guest/host-guest-agent.fixture.js';
import { type MemoryProviderOptions, memoryProvider } from './memory-provider.js';

function subject(options: MemoryProviderOptions = {}): ProviderContractSubject {
  const provider = memoryProvider(options);
  return {
    provider,
    masterSpec: {
      id: 'contract',
      os: { family: 'linux', version: '1', arch: 'x86_64' },
      source: { type: 'kernel', kernel: '/k', initrd: '/i' },
    },
    expectedCapabilities: {
      linkedClones: true,
      portForwarding: true,
      suspend: true,
      ...(options.guestAgent ? { guestAgent: true } : {}),
    },
    // The memory provider's "hypervisor" is its own state: these are the networks it simulates.
    hostNetworks: async () => [
      { name: 'br0', kind: 'bridge', up: true },
      { name: 'vmkit-hostonly', kind: 'hostOnly', up: true },
    ],
    bootId: async (id) => String(provider.bootCount(id)),
    leftovers: async () => [...provider.masterNames(), ...provider.diskNames()],
    agentTimeoutMs: 2_000,
  };
}

describeProviderContract('memory', async () => subject());

// Its "guests" are this host, reached through a test agent that runs what core sends it here.
describeProviderContract('memory with a guest agent', async () =>
  subject({ guestAgent: () => new HostGuestAgent() }),
);
