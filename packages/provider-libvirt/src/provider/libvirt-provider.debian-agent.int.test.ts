import { type ComputeService, type NodeMetadata, type ProgressEvent, VmkitError } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DebianGuest, debianGuest } from '../../test-support/debian-guest.js';
import { type LibvirtTestCompute, libvirtTestCompute } from '../../test-support/libvirt-compute.js';
import { stepOutcomes } from '../../test-support/step-outcomes.js';
import { runPrefix } from '../../test-support/test-guest.js';

// The Debian 12 test guest has no guest agent installed (its apt cache holds the package): the
// install-agent step installs it in the master, and nodes then answer commands through it.

const prefix = runPrefix('dag');
/** About 70 s per boot under TCG on an idle machine, minutes on a loaded one. */
const BOOT_TIMEOUT_MS = 600_000;

describe('Debian 12 guest on qemu:///system: install-agent installs qemu-guest-agent; nodes run commands through it', () => {
  let made: LibvirtTestCompute | undefined;
  let compute: ComputeService;
  let guest: DebianGuest;
  let node: NodeMetadata | undefined;
  const events: ProgressEvent[] = [];

  beforeAll(async () => {
    guest = debianGuest();
    made = await libvirtTestCompute(
      prefix,
      [
        {
          id: 'debian12-agent',
          os: { family: 'debian', version: '12', arch: 'x86_64' },
          source: { type: 'disk', path: guest.disk, format: 'qcow2' },
          hardware: { cores: 1, ramMiB: 1024, diskGiB: 3 },
        },
      ],
      { postInstallTimeoutMs: BOOT_TIMEOUT_MS },
    );
    compute = made.compute;
  });

  afterAll(async () => {
    await made?.dispose();
  });

  it(
    'builds the master with install-agent done (the agent installed from the image apt cache)',
    async () => {
      const image = await compute.ensureImage('debian12-agent', { onProgress: (e) => events.push(e) });
      expect(image.status).toBe('available');
      expect(stepOutcomes(events)['install-agent']).toBe('done');
    },
    BOOT_TIMEOUT_MS + 120_000,
  );

  it(
    "a node answers through the agent: uname -r is the image's kernel, id -u is 0 and 1000 by user, a timeout kills the guest process",
    async () => {
      [node] = await compute.createNodesInGroup('dag', 1, { hardware: { ramMiB: 768, cores: 1 } });
      const id = (node as NodeMetadata).id;
      await compute.waitForNode(id, { until: 'agent', timeoutMs: BOOT_TIMEOUT_MS });
      const uname = await compute.runScriptOnNode(id, 'uname -r', { transport: 'agent' });
      expect(uname.stdout.trim()).toBe(guest.kernelVersion);
      expect((await compute.runScriptOnNode(id, 'id -u', { transport: 'agent' })).stdout).toBe('0\n');
      // cloud-init makes the default user `debian` (uid 1000) during the node's first boot: wait for it.
      const deadline = Date.now() + BOOT_TIMEOUT_MS;
      while ((await compute.runScriptOnNode(id, 'id -u debian', { transport: 'agent' })).exitCode !== 0) {
        if (Date.now() > deadline) throw new Error('cloud-init made no user debian');
        await new Promise((r) => setTimeout(r, 1000));
      }
      const asUser = await compute.runScriptOnNode(id, 'id -u', { transport: 'agent', user: 'debian' });
      expect(asUser.stdout).toBe('1000\n');

      const error = await compute
        .runScriptOnNode(id, 'echo $$ >/tmp/sleeper; exec sleep 300', { transport: 'agent', timeoutMs: 3000 })
        .catch((e: unknown) => e);
      expect(VmkitError.is(error, 'TIMEOUT')).toBe(true);
      const left = await compute.runScriptOnNode(
        id,
        'if kill -0 "$(cat /tmp/sleeper)" 2>/dev/null; then echo alive; else echo gone; fi',
        { transport: 'agent' },
      );
      expect(left.stdout).toBe('gone\n');
    },
    BOOT_TIMEOUT_MS + 120_000,
  );

  it('reports the NAT NIC with the addresses `ip -j addr` prints inside', async () => {
    if (!node) throw new Error('no node (see the test above)');
    const out = await compute.runScriptOnNode(node.id, 'ip -j addr', { transport: 'agent' });
    const links = JSON.parse(out.stdout) as Array<{
      address?: string;
      addr_info: Array<{ local: string; scope: string }>;
    }>;
    const mac = node.network.nics[0]?.mac as string;
    const inside = links
      .find((l) => l.address === mac)
      ?.addr_info.filter((a) => a.scope === 'global' || a.scope === 'site')
      .map((a) => a.local);
    expect(inside?.some((a) => a.startsWith('10.0.2.'))).toBe(true);
    const now = await compute.getNode(node.id);
    expect(now?.nicAddresses?.[0]).toMatchObject({ slot: 0, mac, source: 'agent' });
    expect([...(now?.nicAddresses?.[0]?.addresses ?? [])].sort()).toEqual([...(inside ?? [])].sort());
  });
});
