import { vi } from 'vitest';

/**
 * The provider packages this test process has loaded through `import()` since the last
 * `clear()`: a loader hook (vitest's module mocks, which call the real module) records each.
 * Import this module before anything imports a provider package.
 */
export const providerLoads = new Set<'libvirt' | 'virtualbox'>();

vi.mock('@vmkit/provider-libvirt', async (original) => {
  providerLoads.add('libvirt');
  return original();
});
vi.mock('@vmkit/provider-virtualbox', async (original) => {
  providerLoads.add('virtualbox');
  return original();
});
