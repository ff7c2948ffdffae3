import { randomBytes } from 'node:crypto';
import type { NodeMetadata } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_AGENT_USER_DATA, debianDiskSpec, debianGuest } from '../../test-support/debian-guest.js';
import { type LibvirtTestCompute, libvirtTestCompute } from '../../test-support/libvirt-compute.js';
import { leftovers } from '../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../test-support/test-guest.js';

// A sealed image made from a real Debian 12 node (systemd, cloud-init, openssh-server): the node
// writes a file and has its own machine-id and SSH host key; `createImageFromNode` copies it while
// it runs (frozen through its agent) and seals the copy with one boot of it; two nodes cloned
// from the image both have the file, and each its own machine-id and host key, none the source
// node's. The master is the imported disk alone (OS family `linux`: no build boot); each node
// installs qemu-guest-agent from the image's apt cache at its first boot, so the guests are read
// through the agent.

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('dimg');
/** A Debian boot under TCG: about 70 s idle, minutes while the machine's two cores are shared. */
const BOOT_MS = 480_000;
const NODE = { userData: DEBIAN_AGENT_USER_DATA, hardware: { ramMiB: 640, cores: 1 } };
/**
 * What a guest says once cloud-init is done (its host keys made): the file, machine-id and host key.
 * `cloud-init status --wait` exits 2 on a recoverable error (e.g. a deprecated key), so its code
 * is not the guest's state.
 */
const PROBE =
  'cloud-init status --wait >/dev/null 2>&1; cat /root/keep.txt 2>/dev/null || echo no-file; ' +
  'cat /etc/machine-id; cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub';

let t: LibvirtTestCompute;

beforeAll(() => {
  const spec = debianDiskSpec('dimg-debian', debianGuest(), 640);
  return libvirtTestCompute(prefix, [spec], { postInstallTimeoutMs: BOOT_MS }).then((made) => {
    t = made;
  });
}, 120_000);

afterAll(async () => {
  await t?.dispose();
});

/** The file, machine-id and host key a node reports through its agent. */
async function identity(node: NodeMetadata): Promise<{ file: string; machineId: string; hostKey: string }> {
  await t.compute.waitForNode(node.id, { until: 'agent', timeoutMs: BOOT_MS });
  const r = await t.compute.runScriptOnNode(node.id, PROBE, { transport: 'agent', timeoutMs: BOOT_MS });
  expect(r.exitCode, r.stderr).toBe(0);
  const [file, machineId, hostKey] = r.stdout.trim().split('\n');
  return { file: file ?? '', machineId: machineId ?? '', hostKey: hostKey ?? '' };
}

describe('a sealed image made from a Debian node (qemu:///system)', () => {
  it(
    'two clones of it have the file the node wrote, and each its own machine-id and SSH host key',
    async () => {
      const started = Date.now();
      const content = randomBytes(16).toString('hex');
      const [source] = await t.compute.createNodesInGroup('dimg', 1, NODE);
      if (!source) throw new Error('no source node');
      const before = await identity(source);
      const written = await t.compute.runScriptOnNode(source.id, `echo ${content} > /root/keep.txt; sync`, {
        transport: 'agent',
      });
      expect(written.exitCode, written.stderr).toBe(0);
      expect(before.machineId).toMatch(/^[0-9a-f]{32}$/);
      expect(before.hostKey).toMatch(/^ssh-ed25519 \S+$/);
      const booted = Date.now();

      const image = await t.compute.createImageFromNode(source.id, { imageId: 'dimg-golden' });
      expect(image).toMatchObject({ id: 'dimg-golden', status: 'available' });
      const sealed = Date.now();
      // The node kept running, with its own identity.
      expect(await identity(source)).toEqual({ ...before, file: content });

      const golden = await t.compute.templateBuilder().imageId('dimg-golden').options(NODE).build();
      const clones = await t.compute.createNodesInGroup('dimg-copy', 2, golden);
      expect(clones).toHaveLength(2);
      const seen = await Promise.all(clones.map(identity));
      console.info(
        `[debian-image] source node booted ${booted - started} ms, image made and sealed ${sealed - booted} ms, ` +
          `two clones read ${Date.now() - sealed} ms`,
      );
      for (const s of seen) {
        expect(s.file).toBe(content);
        expect(s.machineId).toMatch(/^[0-9a-f]{32}$/);
        expect(s.hostKey).toMatch(/^ssh-ed25519 \S+$/);
      }
      // Three machines, three identities: sealing removed the node's, each clone made its own.
      expect(new Set([before, ...seen].map((s) => s.machineId)).size).toBe(3);
      expect(new Set([before, ...seen].map((s) => s.hostKey)).size).toBe(3);
      // The provider reports the master each clone came from: the new image's (core checks it
      // against the image's current master before describing an image made from a node).
      const record = await t.provider.getNode(clones[0]?.id as string);
      expect(record?.master).toMatch(
        new RegExp(`^${prefix}m-vmkit-dimg-golden-[0-9a-f]{8}-[0-9a-f]{4}\\.qcow2$`),
      );

      for (const n of [source, ...clones]) await t.compute.destroyNode(n.id);
      await t.compute.deleteImage('dimg-golden');
      const left = await leftovers(URI, prefix, POOL);
      expect(left.domains).toEqual([]);
      expect(left.volumes.filter((v) => !v.startsWith(`${prefix}m-vmkit-dimg-debian-`))).toEqual([]);
    },
    4 * BOOT_MS,
  );
});
