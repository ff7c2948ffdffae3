import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it(
    'through the agent: exit codes 0, 3 and 127, stdout and stderr apart, stdin echoed, 20 MiB streamed in bounded memory, an abort within a second, 50 MiB in and out equal by SHA-256',
    async () => {
      if (!node) throw new Error('no node (see the test above)');
      const id = node.id;
      const agent = { transport: 'agent' } as const;
      const codes = [];
      for (const s of ['exit 0', 'exit 3', 'vmkit-no-such-command'])
        codes.push((await compute.runScriptOnNode(id, s, agent)).exitCode);
      expect(codes).toEqual([0, 3, 127]);
      const apart = await compute.runScriptOnNode(id, 'echo out; echo err >&2', agent);
      expect([apart.stdout, apart.stderr, apart.transport]).toEqual(['out\n', 'err\n', 'agent']);
      expect((await compute.runScriptOnNode(id, 'cat', { ...agent, stdin: 'echoed\n' })).stdout).toBe(
        'echoed\n',
      );

      let streamed = 0;
      let peak = 0;
      const before = process.memoryUsage().arrayBuffers;
      const big = await compute.runScriptOnNode(id, 'head -c 20971520 /dev/zero', {
        ...agent,
        maxOutputBytes: 4096,
        onOutput: (_, chunk) => {
          streamed += chunk.length;
          peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
        },
      });
      expect([streamed, big.truncated, big.stdout.length]).toEqual([20971520, true, 4096]);
      // Far less than the 20 MiB that went through.
      expect(peak).toBeLessThan(8 * 1024 * 1024);

      const controller = new AbortController();
      const marker = 4000 + Math.floor(Math.random() * 999);
      setTimeout(() => controller.abort(), 3000);
      const abortStart = Date.now();
      const aborted = await compute
        .runScriptOnNode(id, `sleep ${marker}`, { ...agent, signal: controller.signal })
        .catch((e: unknown) => e);
      expect(VmkitError.is(aborted, 'ABORTED')).toBe(true);
      expect(Date.now() - abortStart).toBeLessThan(3000 + 1000);
      // The killed process is gone once the background kill ran.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ps = await compute.runScriptOnNode(
          id,
          `ps -eo args | grep -c "^sleep ${marker}" || true`,
          agent,
        );
        if (ps.stdout.trim() === '0') break;
        if (Date.now() > deadline) throw new Error(`sleep ${marker} still runs in the guest`);
        await new Promise((r) => setTimeout(r, 500));
      }

      const dir = mkdtempSync(join(tmpdir(), 'vmkit-dag-'));
      try {
        const source = join(dir, 'random.bin');
        writeFileSync(source, randomBytes(50 * 1024 * 1024));
        const want = createHash('sha256').update(readFileSync(source)).digest('hex');
        const into = await compute.copyToNode(id, source, '/root/random.bin', { ...agent, mode: 0o600 });
        expect([into.sha256, into.bytes, into.transport]).toEqual([want, 50 * 1024 * 1024, 'agent']);
        const inside = await compute.runScriptOnNode(id, 'sha256sum /root/random.bin', agent);
        expect(inside.stdout.split(' ')[0]).toBe(want);
        const back = join(dir, 'back.bin');
        const out = await compute.copyFromNode(id, '/root/random.bin', back, agent);
        expect(out.sha256).toBe(want);
        expect(createHash('sha256').update(readFileSync(back)).digest('hex')).toBe(want);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    BOOT_TIMEOUT_MS,
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
