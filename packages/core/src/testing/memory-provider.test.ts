import { describeProviderContract } from '../contract/describe-provider-contract.js';
import { memoryProvider } from './memory-provider.js';

describeProviderContract('memory', async () => {
  const provider = memoryProvider();
  return {
    provider,
    masterSpec: {
      id: 'contract',
      os: { family: 'linux', version: '1', arch: 'x86_64' },
      source: { type: 'kernel', kernel: '/k', initrd: '/i' },
    },
    expectedCapabilities: { linkedClones: true, portForwarding: true, suspend: true },
    // The memory provider's "hypervisor" is its own state: these are the networks it simulates.
    hostNetworks: async () => [
      { name: 'br0', kind: 'bridge', up: true },
      { name: 'vmkit-hostonly', kind: 'hostOnly', up: true },
    ],
    bootId: async (id) => String(provider.bootCount(id)),
    leftovers: async () => [...provider.masterNames(), ...provider.diskNames()],
  };
});
