import type { ComputeService, MasterSpec, ProgressEvent } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianGuest } from '../../test-support/debian-guest.js';
import { type LibvirtTestCompute, libvirtTestCompute } from '../../test-support/libvirt-compute.js';
import { leftovers } from '../../test-support/libvirt-sweep.js';
import { makeSshKeys, type SshKeys, waitForSsh } from '../../test-support/ssh.js';
import { postInstallBuildOutcomes, stepOutcomes } from '../../test-support/step-outcomes.js';
import { runPrefix } from '../../test-support/test-guest.js';

// A real distro through the whole pipeline: Debian 12 (systemd, cloud-init, openssh-server) made
// by test-guest/debian/build.sh, imported as a disk master, booted once for post-install (which
// ends with vmkit's guest clean-up), then two nodes cloned at once and checked from inside over SSH.

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('deb');
// The nodes ask for other hardware than the master's (2 vCPUs, 1024 MiB), so what the guests
// show can only come from the request. One vCPU each: two 2-vCPU TCG guests on a busy two-core
// host stall in soft lockups.
const NODE_RAM_MIB = 768;
/**
 * How long one boot may take: about 70 s to cloud-init's runcmd under TCG on an idle machine,
 * several minutes when the host's two cores are shared with other QEMU guests.
 */
const BOOT_TIMEOUT_MS = 600_000;
const TEST_TIMEOUT_MS = BOOT_TIMEOUT_MS + 120_000;
const NODE_CORES = 1;
/** What a guest prints over SSH, one value a line. */
const PROBE = [
  'cat /etc/machine-id',
  'cat /etc/ssh/ssh_host_ed25519_key.pub',
  'nproc',
  'awk \'$1 == "MemTotal:" { print $2 }\' /proc/meminfo',
  'hostname',
  'cat /var/lib/vmkit-test/build-identity',
].join('; ');

/** The first two fields of an OpenSSH public key line (`type base64`). */
const keyOf = (line: string | undefined) => (line ?? '').trim().split(/\s+/).slice(0, 2).join(' ');

describe('Debian 12 guest on qemu:///system: build steps act, nodes are reached over SSH', () => {
  const events: ProgressEvent[] = [];
  let made: LibvirtTestCompute | undefined;
  let compute: ComputeService;
  let keys: SshKeys;
  let built = false;

  beforeAll(async () => {
    const guest = debianGuest();
    keys = await makeSshKeys();
    const spec: MasterSpec = {
      id: 'debian12',
      os: { family: 'linux', version: 'debian-12', arch: 'x86_64' },
      source: { type: 'disk', path: guest.disk, format: 'qcow2' },
      hardware: { cores: 2, ramMiB: 1024, diskGiB: 3 },
      // Records the identity the master has at build time (before vmkit's clean-up runs), where
      // the nodes can read it back.
      postInstall: [
        {
          name: 'record-build-identity',
          run: 'mkdir -p /var/lib/vmkit-test\n{ cat /etc/machine-id; cat /etc/ssh/ssh_host_ed25519_key.pub; } > /var/lib/vmkit-test/build-identity\nchmod 0644 /var/lib/vmkit-test/build-identity',
        },
      ],
    };
    made = await libvirtTestCompute(prefix, [spec], { postInstallTimeoutMs: BOOT_TIMEOUT_MS });
    compute = made.compute;
  });

  afterAll(async () => {
    await made?.dispose();
    await keys?.dispose();
  });

  it(
    'builds the master: post-install and the guest clean-up act (done), steps with nothing to do are skipped',
    async () => {
      const t0 = Date.now();
      const image = await compute.ensureImage('debian12', { onProgress: (e) => events.push(e) });
      console.info(`Debian master build (import + post-install boot under TCG): ${Date.now() - t0} ms`);
      expect(image.status).toBe('available');
      built = true;
      expect(stepOutcomes(events)).toEqual(
        postInstallBuildOutcomes({ cleanUdevRules: 'done', resetIdentity: 'done' }),
      );
      // What the clean-up removed, as its steps reported it.
      const said = (step: string) =>
        events
          .filter((e) => e.step === step)
          .map((e) => e.message)
          .join('\n');
      expect(said('reset-identity')).toMatch(/\/etc\/machine-id/);
      expect(said('reset-identity')).toMatch(/\/etc\/ssh\/ssh_host_ed25519_key\.pub/);
      expect(said('clean-udev-rules')).toMatch(/\/var\/lib\/dhcp\/\S+\.leases/);
      // The master is a volume: the post-install domain (with its CD-ROM and NIC) is gone.
      expect(await leftovers(URI, `${prefix}post-`, POOL)).toEqual({ domains: [], volumes: [] });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'clones two nodes at once; each is reached over SSH with the authorized key and has its own identity and the requested hardware',
    async () => {
      if (!built) throw new Error('the master was not built (see the test above)');
      const t0 = Date.now();
      const nodes = await compute.createNodesInGroup('deb', 2, {
        inboundPorts: [22],
        authorizePublicKey: keys.publicKey,
        hardware: { ramMiB: NODE_RAM_MIB, cores: NODE_CORES },
      });
      expect(nodes).toHaveLength(2);
      const seen = await Promise.all(
        nodes.map(async (node) => {
          const port = node.hostPorts['tcp-22'];
          expect(port).toBeTypeOf('number');
          const r = await waitForSsh(keys, port as number, 'debian', PROBE, BOOT_TIMEOUT_MS);
          const [machineId, hostKey, nproc, memKiB, hostname, buildMachineId, buildHostKey] = r.stdout
            .trim()
            .split('\n');
          return { node, r, machineId, hostKey, nproc, memKiB, hostname, buildMachineId, buildHostKey };
        }),
      );
      console.info(
        `two Debian nodes cloned and reached over SSH in ${Date.now() - t0} ms (${seen.map((s) => Math.round(s.r.ms)).join(', ')} ms from creation)`,
      );
      const [a, b] = seen;
      if (!a || !b) throw new Error('two nodes expected');
      for (const s of seen) {
        expect(s.machineId).toMatch(/^[0-9a-f]{32}$/);
        expect(s.buildMachineId).toMatch(/^[0-9a-f]{32}$/);
        expect(s.machineId).not.toBe(s.buildMachineId);
        expect(keyOf(s.hostKey)).toMatch(/^ssh-ed25519 \S+$/);
        expect(keyOf(s.hostKey)).not.toBe(keyOf(s.buildHostKey));
        // The key the SSH server presented is the one in the guest's file.
        expect(s.r.hostKey).toBe(keyOf(s.hostKey));
        expect(Number(s.nproc)).toBe(NODE_CORES);
        const mem = Number(s.memKiB);
        expect(mem).toBeLessThanOrEqual(NODE_RAM_MIB * 1024);
        expect(mem).toBeGreaterThan(NODE_RAM_MIB * 1024 * 0.85);
        expect(s.hostname).toBe(s.node.name);
      }
      // Both were cloned from the same master and recorded the same build-time identity ...
      expect(a.buildMachineId).toBe(b.buildMachineId);
      // ... yet each has its own.
      expect(a.machineId).not.toBe(b.machineId);
      expect(keyOf(a.hostKey)).not.toBe(keyOf(b.hostKey));
      await Promise.all(nodes.map((n) => compute.destroyNode(n.id)));
      expect(await leftovers(URI, `${prefix}deb-`, POOL)).toEqual({ domains: [], volumes: [] });
    },
    TEST_TIMEOUT_MS,
  );
});
