import { createHash, randomBytes } from 'node:crypto';
import { type ComputeService, type NodeMetadata, RunScriptError, VmkitError } from '@vmkit/core';
import { GUEST_INTERFACES_SCRIPT, parseGuestInterfaces } from '@vmkit/core/contract';
import { type GuestAgent, type GuestInterface, nicAddressesFromGuest } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LibvirtTestCompute, libvirtTestCompute } from '../../../test-support/libvirt-compute.js';
import { runPrefix, testGuestMasterSpec } from '../../../test-support/test-guest.js';
import { LibvirtClient } from '../../client/libvirt-client.js';
import type { LibvirtProvider } from '../libvirt-provider.js';
import { AGENT_ADDRESS_TIMEOUT_MS } from '../node/node-addresses.js';
import { AGENT_CAPTURE_BYTES } from './libvirt-guest-agent.js';

// The busybox test guest runs qemu-ga on the org.qemu.guest_agent.0 channel every vmkit domain
// has; the provider reaches it through libvirt's QEMU program. The guest's own view (`ip -o
// addr`, `sha256sum`, files written by its shell) is read back through the agent and compared.

const prefix = runPrefix('ga');
const subnet = `172.31.${10 + Math.floor(Math.random() * 200)}`;
const netName = `${prefix}dhcp`;
const bridge = `vkga${Date.now().toString(36).slice(-6)}`;

/** Pings until the agent answers (it starts a few seconds into the guest's boot). */
async function agentUp(agent: GuestAgent, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await agent.ping();
      return;
    } catch (error) {
      if (!VmkitError.is(error, 'UNSUPPORTED') || !error.retryable || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function readAll(agent: GuestAgent, path: string): Promise<Buffer> {
  const handle = await agent.openFile(path, 'r');
  const parts: Buffer[] = [];
  try {
    for (;;) {
      const chunk = await agent.readFile(handle, agent.maxChunkBytes);
      parts.push(Buffer.from(chunk.data));
      if (chunk.eof) break;
    }
  } finally {
    await agent.closeFile(handle);
  }
  return Buffer.concat(parts);
}

async function writeAll(agent: GuestAgent, path: string, data: Buffer): Promise<void> {
  const handle = await agent.openFile(path, 'w');
  try {
    for (let at = 0; at < data.length; at += agent.maxChunkBytes)
      await agent.writeFile(handle, data.subarray(at, at + agent.maxChunkBytes));
  } finally {
    await agent.closeFile(handle);
  }
}

/** Runs `script` under /bin/sh in the guest; its exit code and its output (through a file). */
async function sh(agent: GuestAgent, script: string): Promise<{ exitCode?: number; out: string }> {
  const out = `/tmp/agent-test-${randomBytes(4).toString('hex')}`;
  const pid = await agent.spawn({ path: '/bin/sh', args: ['-c', `{ ${script}\n} >${out} 2>&1`] });
  for (;;) {
    const status = await agent.processStatus(pid);
    if (status.exited) {
      const text = (await readAll(agent, out)).toString('utf8');
      return { ...(status.exitCode === undefined ? {} : { exitCode: status.exitCode }), out: text };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The guest's interfaces once their addresses stopped changing (IPv6 ones arrive a little after boot). */
async function settledInterfaces(agent: GuestAgent): Promise<GuestInterface[]> {
  const deadline = Date.now() + 60_000;
  let last = '';
  for (;;) {
    const { out } = await sh(agent, GUEST_INTERFACES_SCRIPT);
    const found = parseGuestInterfaces(out).filter((i) => i.name !== 'lo');
    const seen = JSON.stringify(found);
    // Settled once two readings agree and the NIC on the test's DHCP network has its lease.
    const leased = found.some((i) => i.addresses.some((a) => a.address.startsWith(`${subnet}.`)));
    if (seen === last && leased) return found;
    if (Date.now() > deadline) throw new Error(`guest addresses did not settle:\n${out}`);
    last = seen;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('QEMU guest agent of libvirt nodes (busybox guest with qemu-ga, qemu:///system)', () => {
  let made: LibvirtTestCompute | undefined;
  let compute: ComputeService;
  let provider: LibvirtProvider;
  let client: LibvirtClient;
  let node: NodeMetadata;
  let agent: GuestAgent;

  beforeAll(async () => {
    client = await LibvirtClient.connect('qemu:///system');
    const net = await client.networks.defineXml(
      `<network><name>${netName}</name><bridge name='${bridge}'/>` +
        `<ip address='${subnet}.1' netmask='255.255.255.0'><dhcp><range start='${subnet}.100' end='${subnet}.150'/></dhcp></ip></network>`,
    );
    await client.networks.create(net);
    made = await libvirtTestCompute(prefix, [testGuestMasterSpec('agent-guest')], {
      nodeCmdline: (c) => c.replace(/\bmode=install\b/, 'mode=run'),
    });
    ({ compute, provider } = made);
    [node] = (await compute.createNodesInGroup('ag', 1, {
      network: { nics: [{ attachment: 'nat' }, { attachment: 'hostOnly', network: netName }] },
    })) as [NodeMetadata];
    agent = await provider.guestAgent(node.id, {});
    await agentUp(agent);
  }, 300_000);

  afterAll(async () => {
    await made?.dispose();
    const net = await client?.networks.lookupByName(netName).catch(() => undefined);
    if (net) {
      await client.networks.destroy(net).catch(() => {});
      await client.networks.undefine(net).catch(() => {});
    }
    await client?.close();
  });

  it('says guestAgent in the capabilities and answers guest-ping', async () => {
    expect((await provider.capabilities()).guestAgent).toBe(true);
    await expect(agent.ping()).resolves.toBeUndefined();
  });

  it('spawns a program whose exit code and effect come back (exit 3, a file it wrote)', async () => {
    const pid = await agent.spawn({
      path: '/bin/sh',
      args: ['-c', 'echo "$GREETING from $(id -u)" >/tmp/spawned; exit 3'],
      env: ['GREETING=hello'],
    });
    let status = await agent.processStatus(pid);
    while (!status.exited) status = await agent.processStatus(pid);
    expect(status.exitCode).toBe(3);
    expect((await readAll(agent, '/tmp/spawned')).toString()).toBe('hello from 0\n');
    // Once reported exited, the agent forgets the process.
    await expect(agent.processStatus(pid)).rejects.toSatisfy((e) => VmkitError.is(e, 'NOT_FOUND'));
  });

  it('captures stdout and stderr apart when asked, up to captureOutputBytes whole', async () => {
    expect(agent.captureOutputBytes).toBe(AGENT_CAPTURE_BYTES);
    const run = async (text: string) => {
      const pid = await agent.spawn({ path: '/bin/sh', args: ['-c', text], captureOutput: true });
      let status = await agent.processStatus(pid);
      while (!status.exited) status = await agent.processStatus(pid);
      return status;
    };
    const small = await run('echo out; echo err >&2; exit 5');
    expect(small).toMatchObject({ exited: true, exitCode: 5, outputTruncated: false });
    expect(Buffer.from(small.stdout ?? []).toString()).toBe('out\n');
    expect(Buffer.from(small.stderr ?? []).toString()).toBe('err\n');
    // As much as the limit allows, split over both streams, comes back whole through libvirt.
    const half = AGENT_CAPTURE_BYTES / 2;
    const full = await run(`head -c ${half} /dev/zero; head -c ${half} /dev/zero >&2`);
    expect([full.stdout?.byteLength, full.stderr?.byteLength]).toEqual([half, half]);
    // Through the compute service, a short script takes this path: output right, nothing left behind
    // (the next run sees one run directory, kept, holding only its own files once the previous
    // run's background removal is through).
    const result = await compute.runScriptOnNode(node.id, 'echo hi; echo there >&2; exit 4', {
      transport: 'agent',
    });
    expect(result).toMatchObject({ stdout: 'hi\n', stderr: 'there\n', exitCode: 4, truncated: false });
    const look = 'echo "$VMKIT_RUN"; ls -d /tmp/vmkit-*; ls /tmp/vmkit-runs-*/';
    let lines: string[] = [];
    for (let i = 0; i < 20; i++) {
      lines = (await compute.runScriptOnNode(node.id, look, { transport: 'agent' })).stdout
        .trim()
        .split('\n');
      const own = (lines[0] ?? '').replace('vmkit-run-', '');
      if (lines.slice(2).every((f) => f.startsWith(`${own}.`))) break;
    }
    const [mark, dir, ...files] = lines;
    const id = (mark ?? '').replace(/^vmkit-run-/, '');
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(dir).toMatch(/^\/tmp\/vmkit-runs-[0-9a-f]{16}$/);
    expect(files.sort()).toEqual([`${id}.err`, `${id}.out`]);
  });

  it('writes 1 MiB in chunks and reads them back equal; the guest computes the same SHA-256', async () => {
    const data = randomBytes(1024 * 1024 + 12345);
    await writeAll(agent, '/tmp/blob', data);
    expect(
      createHash('sha256')
        .update(await readAll(agent, '/tmp/blob'))
        .digest('hex'),
    ).toBe(createHash('sha256').update(data).digest('hex'));
    const { out } = await sh(agent, 'sha256sum /tmp/blob');
    expect(out.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
    expect(agent.maxChunkBytes).toBe(96 * 1024);
  });

  it('refuses a write over maxChunkBytes and names a missing file and an unknown handle', async () => {
    const handle = await agent.openFile('/tmp/big', 'w');
    await expect(agent.writeFile(handle, new Uint8Array(agent.maxChunkBytes + 1))).rejects.toSatisfy((e) =>
      VmkitError.is(e, 'INVALID_ARGUMENT'),
    );
    await agent.closeFile(handle);
    await expect(agent.openFile('/no/such/file', 'r')).rejects.toSatisfy(
      (e) => VmkitError.is(e, 'PROVIDER') && /no\/such\/file/.test(e.message),
    );
    await expect(agent.readFile(987654, 10)).rejects.toSatisfy((e) => VmkitError.is(e, 'NOT_FOUND'));
  });

  it("lists the guest's interfaces as `ip -o addr` prints them inside", async () => {
    const inside = await settledInterfaces(agent);
    const listed = (await agent.networkInterfaces()).filter((i) => i.name !== 'lo');
    const byName = (list: readonly GuestInterface[]) =>
      [...list]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((i) => ({
          ...i,
          addresses: [...i.addresses].sort((a, b) => a.address.localeCompare(b.address)),
        }));
    expect(byName(listed)).toEqual(byName(inside));
  });

  it('reports per NIC the addresses the guest has: the NAT NIC and the NIC on a DHCP network (getNode, listNodes)', async () => {
    const nics = node.network.nics;
    const expected = nicAddressesFromGuest(node.network, await settledInterfaces(agent)).map(
      (n) => n.addresses,
    );
    expect(expected[0]?.some((a) => a.startsWith('10.0.2.'))).toBe(true);
    expect(expected[1]?.some((a) => a.startsWith(`${subnet}.`))).toBe(true);

    const fresh = (await compute.getNode(node.id)) as NodeMetadata;
    expect(fresh.nicAddresses?.map((n) => [n.slot, n.mac, n.source])).toEqual([
      [0, nics[0]?.mac, 'agent'],
      [1, nics[1]?.mac, 'agent'],
    ]);
    const sorted = (a: readonly string[] | undefined) => [...(a ?? [])].sort();
    expect(sorted(fresh.nicAddresses?.[0]?.addresses)).toEqual(sorted(expected[0]));
    expect(sorted(fresh.nicAddresses?.[1]?.addresses)).toEqual(sorted(expected[1]));
    // (No port forwards: every address comes from the guest, private or public.)
    expect([...fresh.privateAddresses, ...fresh.publicAddresses].sort()).toEqual(
      [...(expected[0] ?? []), ...(expected[1] ?? [])].sort(),
    );
    expect(fresh.privateAddresses).toContain(expected[1]?.find((a) => a.startsWith(`${subnet}.`)));

    const listed = (await compute.listNodes()).find((n) => n.id === node.id);
    expect(listed?.nicAddresses).toEqual(fresh.nicAddresses);
  });

  it('a hung agent costs a node view at most its short wait (AGENT_ADDRESS_TIMEOUT_MS)', async () => {
    // qemu-ga is stopped (SIGSTOP) for 10 s by a shell that then lets it go on.
    await agent.spawn({
      path: '/bin/sh',
      args: [
        '-c',
        'sleep 0.3; kill -STOP $(cat /run/vmkit/qemu-ga.pid); sleep 10; kill -CONT $(cat /run/vmkit/qemu-ga.pid)',
      ],
    });
    const hung = Date.now() + 5_000;
    while (
      await agent.ping({ signal: AbortSignal.timeout(500) }).then(
        () => true,
        () => false,
      )
    ) {
      if (Date.now() > hung) throw new Error('qemu-ga was not stopped');
      await new Promise((r) => setTimeout(r, 100));
    }
    const t0 = performance.now();
    const viewed = (await compute.getNode(node.id)) as NodeMetadata;
    const getMs = performance.now() - t0;
    const t1 = performance.now();
    await compute.listNodes();
    const listMs = performance.now() - t1;
    console.info(`with a hung agent: getNode ${Math.round(getMs)} ms, listNodes ${Math.round(listMs)} ms`);
    expect(viewed.nicAddresses?.[0]?.addresses).toBeUndefined();
    expect(getMs).toBeLessThan(AGENT_ADDRESS_TIMEOUT_MS + 2_500);
    expect(listMs).toBeLessThan(AGENT_ADDRESS_TIMEOUT_MS + 2_500);
    // Once it goes on, it answers again.
    await agentUp(agent, 60_000);
  });

  it('without an agent, the NIC on the DHCP network still has its lease address and the NAT NIC says unknown', async () => {
    const inside = nicAddressesFromGuest(node.network, await settledInterfaces(agent));
    const leased = (inside[1]?.addresses ?? []).filter((a) => a.startsWith(`${subnet}.`));
    // The agent kills itself (the spawn answers first).
    await agent.spawn({ path: '/bin/sh', args: ['-c', 'sleep 0.2; kill $(cat /run/vmkit/qemu-ga.pid)'] });
    const deadline = Date.now() + 30_000;
    while (
      await agent.ping().then(
        () => true,
        () => false,
      )
    ) {
      if (Date.now() > deadline) throw new Error('qemu-ga still answers');
      await new Promise((r) => setTimeout(r, 200));
    }
    await expect(agent.ping()).rejects.toSatisfy((e) => VmkitError.is(e, 'UNSUPPORTED') && e.retryable);
    const fresh = (await compute.getNode(node.id)) as NodeMetadata;
    expect(fresh.nicAddresses).toEqual([
      { slot: 0, mac: node.network.nics[0]?.mac },
      { slot: 1, mac: node.network.nics[1]?.mac, addresses: leased, source: 'lease' },
    ]);
    expect(fresh.privateAddresses).toEqual(leased);
  });

  it('runScriptOnNodesMatching on four nodes, one made to fail: four results, one error naming it', async () => {
    const four = await compute.createNodesInGroup('four', 4);
    try {
      for (const n of four) await compute.waitForNode(n.id, { until: 'agent', timeoutMs: 240_000 });
      const victim = four[2] as NodeMetadata;
      await compute.copyToNode(victim.id, new TextEncoder().encode('no\n'), '/tmp/refuse', {
        transport: 'agent',
      });
      const error = await compute
        .runScriptOnNodesMatching(
          (n) => n.group === 'four',
          'test ! -e /tmp/refuse && cat /proc/sys/kernel/random/boot_id',
          {
            transport: 'agent',
            concurrency: 2,
          },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunScriptError);
      const failed = error as RunScriptError;
      expect(failed.results.map((r) => r.node.id).sort()).toEqual(four.map((n) => n.id).sort());
      expect(failed.failed.map((r) => r.node.id)).toEqual([victim.id]);
      expect(failed.message).toContain(victim.name);
      // The others ran for real: each printed its own boot id.
      const ran = failed.results.filter((r) => r.node.id !== victim.id);
      expect(ran.map((r) => r.result?.exitCode)).toEqual([0, 0, 0]);
      expect(new Set(ran.map((r) => r.result?.stdout)).size).toBe(3);
    } finally {
      await compute.destroyNodesMatching((n) => n.group === 'four');
    }
  }, 600_000);

  it('refuses an agent for an unknown node (NOT_FOUND) and for a stopped one (CONFLICT)', async () => {
    await expect(provider.guestAgent(`${prefix}nope`, {})).rejects.toSatisfy((e) =>
      VmkitError.is(e, 'NOT_FOUND'),
    );
    await compute.stopNode(node.id);
    await expect(provider.guestAgent(node.id, {})).rejects.toSatisfy((e) => VmkitError.is(e, 'CONFLICT'));
    const stopped = (await compute.getNode(node.id)) as NodeMetadata;
    expect(stopped.privateAddresses).toEqual([]);
    expect(stopped.nicAddresses?.every((n) => n.addresses === undefined)).toBe(true);
  });
});
