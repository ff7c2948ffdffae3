import { describeProviderContract } from './describe-provider-contract.js';
import { memoryProvider } from './memory-provider.js';

describeProviderContract('memory', async () => ({
  provider: memoryProvider(),
  masterSpec: {
    id: 'contract',
    os: { family: 'linux', version: '1', arch: 'x86_64' },
    source: { type: 'kernel', kernel: '/k', initrd: '/i' },
  },
}));
