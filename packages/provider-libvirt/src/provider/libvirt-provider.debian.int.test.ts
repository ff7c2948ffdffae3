import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  type ComputeService,
  createComputeService,
  fileCredentialStore,
  type MasterSpec,
  type NodeMetadata,
  type ProgressEvent,
  silentLogger,
  VmkitError,
} from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { NodeCredentials, sshTransportFactory } from '@vmkit/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianGuest } from '../../test-support/debian-guest.js';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { keyOf, makeSshKeys, type SshKeys, waitForSsh } from '../../test-support/ssh.js';
import { postInstallBuildOutcomes, stepOutcomes } from '../../test-support/step-outcomes.js';
import { runPrefix } from '../../test-support/test-guest.js';
import { libvirtProvider } from './libvirt-provider.js';

// A real distro through the whole pipeline: Debian 12 (systemd, cloud-init, openssh-server) made
// by test-guest/debian/build.sh, imported as a disk master whose install-agent step installs
// qemu-guest-agent, booted once for post-install (which ends with vmkit's guest clean-up), then
// two nodes cloned at once and checked from inside over SSH, and a node with the key vmkit made
// reached over SSH and through the agent (the proof, both transports on one guest).

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('deb');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-debian-'));
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

describe('Debian 12 guest on qemu:///system: build steps act, nodes are reached over SSH', () => {
  const events: ProgressEvent[] = [];
  let compute: ComputeService;
  let provider: ReturnType<typeof libvirtProvider>;
  let kernelVersion: string;
  let keys: SshKeys;
  let built = false;
  /** The node of the group with vmkit's key, reached over SSH and then through the agent. */
  let keyed: NodeMetadata | undefined;

  beforeAll(async () => {
    const guest = debianGuest();
    kernelVersion = guest.kernelVersion;
    keys = await makeSshKeys();
    const spec: MasterSpec = {
      id: 'debian12',
      // Family `debian`: the install-agent step installs qemu-guest-agent (from the image's apt cache).
      os: { family: 'debian', version: '12', arch: 'x86_64' },
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
    provider = libvirtProvider({
      uri: URI,
      pool: POOL,
      namePrefix: prefix,
      postInstallTimeoutMs: BOOT_TIMEOUT_MS,
    });
    compute = await createComputeService({
      provider,
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [spec],
      ports: { leaseDir: join(dir, 'leases') },
      credentials: { directory: join(dir, 'credentials') },
    });
  });

  afterAll(async () => {
    await compute?.close();
    await keys?.dispose();
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'builds the master: install-agent, post-install and the guest clean-up act (done), steps with nothing to do are skipped',
    async () => {
      const t0 = Date.now();
      const image = await compute.ensureImage('debian12', { onProgress: (e) => events.push(e) });
      console.info(`Debian master build (import + post-install boot under TCG): ${Date.now() - t0} ms`);
      expect(image.status).toBe('available');
      built = true;
      expect(stepOutcomes(events)).toEqual({
        ...postInstallBuildOutcomes({ cleanUdevRules: 'done', resetIdentity: 'done' }),
        'install-agent': 'done',
      });
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

  it(
    "a node of a group whose template names no key is reached with the key vmkit made: OpenSSH's client and vmkit's SSH transport run scripts, kill them, copy files",
    async () => {
      if (!built) throw new Error('the master was not built (see the first test)');
      const [node] = await compute.createNodesInGroup('debssh', 1, {
        configDrive: true,
        inboundPorts: [22],
        loginUser: 'debian',
        hardware: { ramMiB: NODE_RAM_MIB, cores: NODE_CORES },
      });
      if (!node) throw new Error('one node expected');
      keyed = node;
      const login = await compute.getNodeCredentials(node.id);
      expect(login?.user).toBe('debian');
      expect(JSON.stringify(await compute.getNode(node.id))).not.toContain('PRIVATE KEY');
      // cloud-init authorised the key from the config drive: the system's ssh gets in with it.
      const stored = join(keys.dir, 'stored_ed25519');
      writeFileSync(stored, login?.privateKey as string, { mode: 0o600 });
      const port = node.hostPorts['tcp-22'] as number;
      await waitForSsh({ ...keys, privateKey: stored }, port, 'debian', 'true', BOOT_TIMEOUT_MS);
      const credentials = new NodeCredentials(
        fileCredentialStore({ directory: join(dir, 'credentials') }),
        () => provider.id,
      );
      const ssh = await sshTransportFactory({ credentials, logger: silentLogger })(
        (await compute.getNode(node.id)) as NodeMetadata,
        {},
      );
      try {
        expect((await ssh.run('uname -r', { user: 'debian' })).stdout).toBe(`${kernelVersion}\n`);
        expect((await ssh.run(['id', '-u'], { user: 'debian' })).stdout).toBe('1000\n');
        // Root through the login's sudo (cloud-init gives the default user passwordless sudo), with
        // nothing of sudo's own in the script's stderr: the default vendor data made the hostname
        // resolve (without it sudo says "unable to resolve host" on every run).
        const root = await ssh.run('id -u', {});
        expect([root.stdout, root.stderr]).toEqual(['0\n', '']);
        expect((await ssh.run('getent hosts "$(hostname)"', {})).stdout).toMatch(/^127\.0\.1\.1\s/);
        const codes = await Promise.all(
          ['exit 0', 'exit 3', 'vmkit-no-such-command'].map((s) => ssh.run(s, { user: 'debian' })),
        );
        expect(codes.map((r) => r.exitCode)).toEqual([0, 3, 127]);
        const apart = await ssh.run('echo out; echo err >&2', { user: 'debian' });
        expect([apart.stdout, apart.stderr]).toEqual(['out\n', 'err\n']);
        expect((await ssh.run('cat', { user: 'debian', stdin: 'echoed\n' })).stdout).toBe('echoed\n');
        let streamed = 0;
        const big = await ssh.run('head -c 20971520 /dev/zero', {
          user: 'debian',
          maxOutputBytes: 4096,
          onOutput: (_, chunk) => {
            streamed += chunk.length;
          },
        });
        expect([streamed, big.truncated, big.stdout.length]).toEqual([20971520, true, 4096]);
        const marker = 3000 + Math.floor(Math.random() * 999);
        await expect(
          ssh.run(`sleep ${marker} & sleep ${marker + 1}`, { user: 'debian', timeoutMs: 3000 }),
        ).rejects.toMatchObject({ code: 'TIMEOUT' });
        const left = await ssh.run(
          `for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done`,
          {
            user: 'debian',
          },
        );
        expect(left.stdout).not.toContain(`sleep ${marker}`);
        // 50 MiB of random bytes in and out, equal by SHA-256 on both ends.
        const source = join(dir, 'random.bin');
        writeFileSync(source, randomBytes(50 * 1024 * 1024));
        const want = createHash('sha256').update(readFileSync(source)).digest('hex');
        const into = await ssh.copyIn(createReadStream(source), '/home/debian/random.bin', { mode: 0o600 });
        expect(into.sha256).toBe(want);
        const back = join(dir, 'back.bin');
        const sink = createWriteStream(back);
        const out = await ssh.copyOut('/home/debian/random.bin', sink, {});
        await new Promise<void>((resolve) => sink.end(resolve));
        expect(out.sha256).toBe(want);
        expect(createHash('sha256').update(readFileSync(back)).digest('hex')).toBe(want);
        // The host key pinned on first contact is the guest's own.
        const hostKey = (await ssh.run('cat /etc/ssh/ssh_host_ed25519_key.pub', { user: 'debian' })).stdout;
        expect(await credentials.pinnedHostKey(node.id)).toBe(keyOf(hostKey));
      } finally {
        await ssh.close();
      }
    },
    TEST_TIMEOUT_MS,
  );
  it(
    "a node answers through the agent: uname -r is the image's kernel, id -u is 0 and 1000 by user, a timeout kills the guest process",
    async () => {
      if (!keyed) throw new Error('no node (see the test above)');
      const id = keyed.id;
      await compute.waitForNode(id, { until: 'agent', timeoutMs: BOOT_TIMEOUT_MS });
      const uname = await compute.runScriptOnNode(id, 'uname -r', { transport: 'agent' });
      expect(uname.stdout.trim()).toBe(kernelVersion);
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
      if (!keyed) throw new Error('no node (see the test above)');
      const id = keyed.id;
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
      let nextCheck = 0;
      // What is still held, not garbage waiting for a collection (a sample without a collection
      // once read 8.5 MiB on a loaded machine).
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      gc();
      const before = process.memoryUsage().arrayBuffers;
      const big = await compute.runScriptOnNode(id, 'head -c 20971520 /dev/zero', {
        ...agent,
        maxOutputBytes: 4096,
        onOutput: (_, chunk) => {
          streamed += chunk.length;
          if (streamed < nextCheck) return;
          nextCheck += 2 * 1024 * 1024;
          gc();
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
    if (!keyed) throw new Error('no node (see the test above)');
    const out = await compute.runScriptOnNode(keyed.id, 'ip -j addr', { transport: 'agent' });
    const links = JSON.parse(out.stdout) as Array<{
      address?: string;
      addr_info: Array<{ local: string; scope: string }>;
    }>;
    const mac = keyed.network.nics[0]?.mac as string;
    const inside = links
      .find((l) => l.address === mac)
      ?.addr_info.filter((a) => a.scope === 'global' || a.scope === 'site')
      .map((a) => a.local);
    expect(inside?.some((a) => a.startsWith('10.0.2.'))).toBe(true);
    const now = await compute.getNode(keyed.id);
    expect(now?.nicAddresses?.[0]).toMatchObject({ slot: 0, mac, source: 'agent' });
    expect([...(now?.nicAddresses?.[0]?.addresses ?? [])].sort()).toEqual([...(inside ?? [])].sort());
  });
});
