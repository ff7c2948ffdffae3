import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MasterSpec } from '@vmkit/core';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** The test guest's kernel and initrd, built by test-guest/build.sh (fast when up to date). */
export function testGuest(): { kernel: string; initrd: string; dir: string } {
  const dir = process.env.VMKIT_GUEST_DIR ?? join(repo, '.vmkit', 'test-guest');
  execFileSync('bash', [join(repo, 'test-guest', 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.img');
  if (!existsSync(kernel) || !existsSync(initrd)) throw new Error(`test guest not built in ${dir}`);
  return { kernel, initrd, dir };
}

/** A master spec that installs the test guest onto a small disk by direct kernel boot. */
export function testGuestMasterSpec(id: string): MasterSpec {
  const g = testGuest();
  return {
    id,
    os: { family: 'linux', version: 'vmkit-test-guest', arch: 'x86_64' },
    source: {
      type: 'kernel',
      kernel: g.kernel,
      initrd: g.initrd,
      cmdline: 'console=ttyS0 panic=-1 vmkit.mode=install root=/dev/vda',
    },
    hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
  };
}

/**
 * A unique prefix for one test run's domains and volumes: `vt` (or `$VMKIT_TEST_PREFIX`, for runs
 * on a machine shared by several runners), the tag, then a part of the time.
 */
export function runPrefix(tag: string): string {
  return `${process.env.VMKIT_TEST_PREFIX ?? 'vt'}${tag}${Date.now().toString(36).slice(-5)}-`;
}
