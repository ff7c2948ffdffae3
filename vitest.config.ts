import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests beside the code, and integration tests that talk to real
// components (libvirtd, QEMU, an S3 server, xorriso, mtools, cloud-init) started by `npm test`.
//
// Integration files run one at a time, but `npm test` runs them in two lanes at once, chosen by
// VMKIT_TEST_LANE: `guests`, most of the libvirt provider's files (guest boots: much of their time
// is one TCG guest on one core), and `rest` (the CLI, imports, the VirtualBox simulator, S3,
// stores, imaging, the many-process tests, and the libvirt files in REST_LANE_LIBVIRT, moved there
// so that the lanes take about as long: about 20 and 60 minutes with every libvirt file in
// `guests`; with seven moved, 27 and 40; with these four, about 33 each). Unset, the project holds
// every file.
const REST_LANE_LIBVIRT = [
  'provider/libvirt-provider.debian.int.test.ts',
  'provider/warm/warm-clones.debian.int.test.ts',
  'provider/libvirt-provider.debian-efi.int.test.ts',
  'provider/libvirt-provider.shared-folders.int.test.ts',
];
const LIBVIRT_SRC = 'packages/provider-libvirt/src';
const GUEST_LANE = (readdirSync(new URL(LIBVIRT_SRC, import.meta.url), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.int.test.ts') && !REST_LANE_LIBVIRT.includes(f))
  .map((f) => `${LIBVIRT_SRC}/${f}`);
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
