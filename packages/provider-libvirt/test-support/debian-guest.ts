import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** The Debian 12 test guest, built by test-guest/debian/build.sh (cached under .vmkit/debian-guest). */
export interface DebianGuest {
  /** Its BIOS-bootable qcow2 disk (SYSLINUX on partition 1, the ext4 root on partition 2). */
  readonly disk: string;
  /** Its kernel version. */
  readonly kernelVersion: string;
  /** The cloud-init default user that `authorizePublicKey` reaches. */
  readonly loginUser: 'debian';
}

/** Builds the Debian test guest if needed (minutes the first time, about 2 s when cached). */
export function debianGuest(): DebianGuest {
  const dir = process.env.VMKIT_DEBIAN_GUEST_DIR ?? join(repo, '.vmkit', 'debian-guest');
  execFileSync('bash', [join(repo, 'test-guest', 'debian', 'build.sh')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, VMKIT_DEBIAN_GUEST_DIR: dir },
  });
  const disk = join(dir, 'disk.qcow2');
  if (!existsSync(disk)) throw new Error(`Debian test guest not built in ${dir}`);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { kernelVersion: string };
  return { disk, kernelVersion: manifest.kernelVersion, loginUser: 'debian' };
}
