import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MasterSpec } from '@vmkit/core';

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

/**
 * A master of the Debian guest's disk alone, imported (OS family `linux`: no build boot, so no
 * install-agent step); its nodes install the agent with {@link DEBIAN_AGENT_USER_DATA}.
 */
export function debianDiskSpec(id: string, guest: DebianGuest, ramMiB: number): MasterSpec {
  return {
    id,
    os: { family: 'linux', version: 'debian-12', arch: 'x86_64' },
    source: { type: 'disk', path: guest.disk, format: 'qcow2' },
    hardware: { cores: 1, ramMiB, diskGiB: 3 },
  };
}

/**
 * User data making a node of {@link debianDiskSpec} install qemu-guest-agent from the image's apt
 * cache at its first boot and start it, so the guest is read through the agent.
 */
export const DEBIAN_AGENT_USER_DATA = [
  '#cloud-config',
  'runcmd:',
  '  - [sh, -c, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-download --no-install-recommends qemu-guest-agent && systemctl start qemu-guest-agent"]',
  '',
].join('\n');

/**
 * A warm master of the Debian guest (family `debian`: its post-install boot installs
 * qemu-guest-agent), 1 vCPU and 512 MiB, whose template is saved once vmkit logs in over SSH
 * (cloud-init's init stage has set the hostname, host keys and authorised keys; the service needs
 * `credentials`).
 */
export function debianWarmSpec(
  id: string,
  guest: DebianGuest,
  timeoutMs: number,
  postInstall?: MasterSpec['postInstall'],
): MasterSpec {
  return {
    id,
    os: { family: 'debian', version: '12', arch: 'x86_64' },
    source: { type: 'disk', path: guest.disk, format: 'qcow2' },
    hardware: { cores: 1, ramMiB: 512, diskGiB: 3 },
    ...(postInstall ? { postInstall } : {}),
    warm: { until: 'ssh', timeoutMs },
  };
}
