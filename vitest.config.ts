import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests beside the code, and integration tests that talk to real
// components (libvirtd, QEMU, an S3 server, xorriso, mtools, cloud-init) started by `npm test`.
//
// Integration files run one at a time, but `npm test` runs them in two lanes at once, chosen by
// VMKIT_TEST_LANE: `guests`, the libvirt provider's files (the Debian guests and most other guest
// boots: much of their time is one TCG guest on one core), and `rest` (the CLI, imports, the
// VirtualBox simulator, S3, stores, imaging, the many-process tests), which uses the other core
// meanwhile. Unset, the project holds every file.
const GUEST_LANE = ['packages/provider-libvirt/src/**/*.int.test.ts'];
const lane = process.env.VMKIT_TEST_LANE;
if (lane !== undefined && lane !== 'guests' && lane !== 'rest') {
  throw new Error(`VMKIT_TEST_LANE must be guests or rest (got ${JSON.stringify(lane)})`);
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'scripts/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include:
            lane === 'guests' ? GUEST_LANE : ['packages/*/src/**/*.int.test.ts', 'scripts/**/*.int.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', ...(lane === 'rest' ? GUEST_LANE : [])],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
