import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeService } from '../../compute/compute-service.js';
import { createComputeService } from '../../compute/create-compute-service.js';
import { debianSpec } from '../../compute/service.fixture.js';
import { fileCredentialStore } from '../../credentials/file-credential-store.js';
import { NodeCredentials } from '../../credentials/node-credentials.js';
import { VmkitError } from '../../errors/vmkit-error.js';
import type { ConfigDriveSpec } from '../../model/config-drive-spec.js';
import type { BoundPortForward } from '../../model/network-spec.js';
import type { NodeMetadata } from '../../model/node-metadata.js';
import { memoryProvider } from '../../testing/memory-provider.js';
import { silentLogger } from '../../util/logger.js';
import type { GuestTransport } from '../guest-transport.js';
import { type LoopbackSshd, startLoopbackSshd } from './loopback-sshd.fixture.js';
import { sshTransportFactory } from './ssh-transport-factory.js';

// A real OpenSSH server: the host's own sshd on a loopback port stands for a guest whose
// cloud-init authorised the key from its config drive. The node is made through the compute
// service (memory provider, its port 22 forwarded to that sshd); the transport logs in with the
// key vmkit made and stored for the group, as the guest layer does.

const PROVIDER_ID = 'memory:ssh-int';
const USER_1000 = 'cloudsdk'; // uid 1000 on this host (see /etc/passwd)
let dir: string;
let sshd: LoopbackSshd;
let service: ComputeService;
let node: NodeMetadata;
let userNode: NodeMetadata;
let credentials: NodeCredentials;
let ssh: GuestTransport;
const drives: ConfigDriveSpec[] = [];

const open = () => sshTransportFactory({ credentials, logger: silentLogger })(node, {});
/** V8's full collection, exposed at run time. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const fileSha256 = async (path: string) => {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-ssh-int-'));
  sshd = await startLoopbackSshd();
  const provider = memoryProvider({ id: PROVIDER_ID });
  const clone = provider.cloneNode.bind(provider);
  provider.cloneNode = async (spec, options) => {
    if (spec.configDrive) drives.push(spec.configDrive);
    return clone(spec, options);
  };
  service = await createComputeService({
    provider,
    store: (await import('../../blobstore/file-system-blob-store.js')).fileSystemBlobStore({
      root: join(dir, 'store'),
    }),
    images: [debianSpec()],
    ports: { leaseDir: join(dir, 'leases'), probe: false },
    credentials: { directory: join(dir, 'credentials') },
  });
  [node] = (await service.createNodesInGroup('sshgroup', 1, {
    configDrive: true,
    network: {
      nics: [{ attachment: 'nat', portForwards: [{ protocol: 'tcp', guestPort: 22, hostPort: sshd.port }] }],
    },
  })) as [NodeMetadata];
  // A second group whose nodes log in as uid 1000 (a guest like the Debian test guest: no sudo).
  // One sshd stands for both guests: the second node is reached through the first one's forward.
  const [made] = (await service.createNodesInGroup('sshuser', 1, {
    configDrive: true,
    loginUser: USER_1000,
  })) as [NodeMetadata];
  userNode = { ...made, network: node.network };
  // What cloud-init does with the drives' public keys.
  await sshd.authorize(...drives.flatMap((d) => d.publicKeys ?? []));
  credentials = new NodeCredentials(
    fileCredentialStore({ directory: join(dir, 'credentials') }),
    () => PROVIDER_ID,
  );
  ssh = await open();
}, 60_000);

afterAll(async () => {
  await ssh?.close();
  await service?.close();
  await sshd?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Runs `fn` with a second sshd (the group's keys authorised) and a copy of `node` whose port 22
 * forward leads to it; the node's pinned host key is the second sshd's meanwhile.
 */
async function withSecondSshd(
  options: { readonly debug?: boolean },
  fn: (sshd: LoopbackSshd, there: NodeMetadata) => Promise<void>,
): Promise<void> {
  const other = await startLoopbackSshd(options);
  try {
    await other.authorize(...drives.flatMap((d) => d.publicKeys ?? []));
    const forward = (f: BoundPortForward) => ({ ...f, hostPort: other.port });
    const there = {
      ...node,
      network: { nics: node.network.nics.map((n) => ({ ...n, portForwards: n.portForwards.map(forward) })) },
    };
    await credentials.pinHostKey(node.id, await other.hostKey());
    await fn(other, there);
  } finally {
    await credentials.pinHostKey(node.id, await sshd.hostKey());
    await other.close();
  }
}

/** Polls `check` every 50 ms until it holds; fails after `ms`. */
async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('SSH transport against OpenSSH', () => {
  it('negotiates ChaCha20-Poly1305 as OpenSSH does, not the AES-GCM ssh2 prefers on this AES-capable host', async () => {
    await withSecondSshd({ debug: true }, async (logging, there) => {
      const transport = await sshTransportFactory({ credentials, logger: silentLogger })(there, {});
      try {
        expect((await transport.run('true', {})).exitCode).toBe(0);
      } finally {
        await transport.close();
      }
      const chosen = [...logging.log().matchAll(/kex: client->server cipher: (\S+)/g)].map((m) => m[1]);
      expect(chosen).toEqual(['chacha20-poly1305@openssh.com']);
    });
  });

  it('keeps a connection between calls (one login for many), opens anew after it dropped, closes it once idle', async () => {
    await withSecondSshd({}, async (other, there) => {
      const factory = sshTransportFactory({ credentials, logger: silentLogger, idleMs: 1000 });
      const logins = () => other.log().match(/Accepted publickey for /g)?.length ?? 0;
      const runOnce = async (script: string) => {
        const transport = await factory(there, {});
        try {
          return await transport.run(script, {});
        } finally {
          await transport.close();
        }
      };
      try {
        expect((await runOnce('echo one')).stdout).toBe('one\n');
        expect((await runOnce('echo two')).stdout).toBe('two\n');
        // Three at once share it too (sshd allows 10 sessions on one connection).
        const three = await Promise.all(['a', 'b', 'c'].map((x) => runOnce(`sleep 0.2; echo ${x}`)));
        expect(three.map((r) => r.stdout)).toEqual(['a\n', 'b\n', 'c\n']);
        expect(logins()).toBe(1);
        expect(await other.connections()).toBe(1);
        // The guest side goes away (a reboot): the next call works, over a new login.
        await other.dropConnections();
        expect((await runOnce('echo three')).stdout).toBe('three\n');
        expect(logins()).toBe(2);
        // Unused for idleMs: closed.
        await until(async () => (await other.connections()) === 0, 5000);
        expect((await runOnce('echo four')).stdout).toBe('four\n');
        expect(logins()).toBe(3);
      } finally {
        factory.close?.();
      }
      await until(async () => (await other.connections()) === 0, 5000);
    });
  });

  it('returns exit codes 0, 3 and 127 with stdout and stderr apart', async () => {
    const ok = await ssh.run('echo out; echo err >&2', {});
    expect(ok).toMatchObject({
      exitCode: 0,
      stdout: 'out\n',
      stderr: 'err\n',
      truncated: false,
      transport: 'ssh',
    });
    expect((await ssh.run('echo three; exit 3', {})).exitCode).toBe(3);
    const missing = await ssh.run(['vmkit-no-such-command-xyz'], {});
    expect(missing.exitCode).toBe(127);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/not found|No such file/);
    // An argv is passed as it is: nothing in it is shell syntax.
    expect((await ssh.run(['printf', '%s|', 'a b', "it's", '$HOME;'], {})).stdout).toBe("a b|it's|$HOME;|");
  });

  it('runs as root by default and as uid 1000 by user, with env and cwd; refuses an unknown user', async () => {
    expect((await ssh.run('id -u', {})).stdout).toBe('0\n');
    expect((await ssh.run('id -u', { user: USER_1000 })).stdout).toBe('1000\n');
    expect((await ssh.run(['id', '-un'], { user: USER_1000 })).stdout).toBe(`${USER_1000}\n`);
    const r = await ssh.run('echo "$GREETING $OTHER"; pwd', {
      user: USER_1000,
      env: { GREETING: "it's me", OTHER: '$(id)' },
      cwd: '/tmp',
    });
    expect(r.stdout).toBe("it's me $(id)\n/tmp\n");
    const error = await ssh.run('id', { user: 'vmkit-nobody-here' }).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as VmkitError).details.field).toBe('user');
    await expect(ssh.run('id', { env: { 'BAD-NAME': 'x' } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('echoes stdin given as text, bytes and a stream', async () => {
    expect((await ssh.run('cat', { stdin: 'hello\nworld' })).stdout).toBe('hello\nworld');
    const bytes = randomBytes(300_000);
    const r = await ssh.run('sha256sum', { stdin: bytes });
    expect(r.stdout.split(' ')[0]).toBe(sha256(bytes));
    const streamed = await ssh.run('wc -c', {
      stdin: Readable.from(
        (function* () {
          for (let i = 0; i < 64; i++) yield Buffer.alloc(64 * 1024, i);
        })(),
      ),
    });
    expect(streamed.stdout.trim()).toBe(String(64 * 64 * 1024));
  });

  it('streams 20 MiB through onOutput, keeping only maxOutputBytes and memory bounded', async () => {
    const total = 20 * 1024 * 1024;
    let seen = 0;
    const hash = createHash('sha256');
    // Memory held, not memory churned: measured after a full collection every 2 MiB.
    const gc = collector();
    gc();
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let nextCheck = 0;
    const r = await ssh.run(`head -c ${total} /dev/urandom | tee /tmp/vmkit-ssh-int-out | cat`, {
      maxOutputBytes: 64 * 1024,
      onOutput: (stream, chunk) => {
        if (stream !== 'stdout') return;
        seen += chunk.length;
        hash.update(chunk);
        if (seen < nextCheck) return;
        nextCheck += 2 * 1024 * 1024;
        gc();
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
      },
    });
    expect(seen).toBe(total);
    expect(r.truncated).toBe(true);
    expect(Buffer.byteLength(r.stdout, 'utf8')).toBeLessThanOrEqual(3 * 64 * 1024); // UTF-8 of random bytes
    expect(hash.digest('hex')).toBe(
      (await ssh.run('sha256sum /tmp/vmkit-ssh-int-out', {})).stdout.split(' ')[0],
    );
    await ssh.run('rm -f /tmp/vmkit-ssh-int-out', {});
    // Far less than the 20 MiB that went through.
    expect(peak).toBeLessThan(8 * 1024 * 1024);
  });

  it('holds the guest back while onOutput is busy (back-pressure), then delivers every byte', async () => {
    const total = 24 * 1024 * 1024;
    const file = `/tmp/vmkit-ssh-bp-${randomBytes(4).toString('hex')}`;
    let seen = 0;
    let busy = false;
    let reentered = false;
    let writtenWhileHeld = -1;
    const r = await ssh.run(`head -c ${total} /dev/zero | tee ${file} | cat; echo done >&2`, {
      maxOutputBytes: 1024,
      onOutput: async (stream, chunk) => {
        if (stream !== 'stdout') return;
        if (busy) reentered = true;
        busy = true;
        seen += chunk.byteLength;
        if (writtenWhileHeld < 0) {
          // Hold the first chunk for a while: the guest's writer must stop (SSH's window is full).
          await new Promise((resolve) => setTimeout(resolve, 1500));
          writtenWhileHeld = statSync(file).size;
        }
        busy = false;
      },
    });
    rmSync(file, { force: true });
    expect(reentered).toBe(false);
    expect(seen).toBe(total);
    expect(r).toMatchObject({ exitCode: 0, stderr: 'done\n', truncated: true });
    // The pipe and the channel's window hold a few MiB; without back-pressure all 24 MiB are written.
    expect(writtenWhileHeld).toBeGreaterThan(0);
    expect(writtenWhileHeld).toBeLessThan(12 * 1024 * 1024);
  });

  it('a timeout kills the script and what it started in the guest, and says TIMEOUT with the partial output', async () => {
    const marker = 3000 + Math.floor(Math.random() * 999);
    const error = await ssh
      .run(`echo started; sleep ${marker} & sleep ${marker + 1}`, { timeoutMs: 1500, user: USER_1000 })
      .catch((e: unknown) => e);
    expect(VmkitError.is(error, 'TIMEOUT')).toBe(true);
    expect((error as VmkitError).details).toMatchObject({
      stdout: 'started\n',
      transport: 'ssh',
      timeoutMs: 1500,
    });
    const left = await ssh.run(`pgrep -f '^sleep ${marker}' || echo none`, {});
    expect(left.stdout).toBe('none\n');
  });

  // Promptly: the kill walks /proc in a shell (every process of this busy host, where the test's
  // sshd runs), which took 1.24 s once with both test lanes and TCG guests on the 2 cores; the
  // script itself would sleep for over an hour.
  it('an abort returns within 3 s, the script killed', async () => {
    const marker = 4000 + Math.floor(Math.random() * 999);
    const controller = new AbortController();
    const running = ssh.run(`echo go; sleep ${marker}`, {
      signal: controller.signal,
      onOutput: () => {
        abortedAt = Date.now();
        controller.abort();
      },
    });
    let abortedAt = 0;
    const error = await running.catch((e: unknown) => e);
    const took = Date.now() - abortedAt;
    expect(VmkitError.is(error, 'ABORTED')).toBe(true);
    expect(took).toBeLessThan(3000);
    expect((await ssh.run(`pgrep -f '^sleep ${marker}' || echo none`, {})).stdout).toBe('none\n');
  });

  it('copies a 50 MiB random file in and out, equal by SHA-256 on both ends, with mode and owner', async () => {
    const source = join(dir, 'random.bin');
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < 50; i++) yield randomBytes(1024 * 1024);
        })(),
      ),
      createWriteStream(source),
    );
    const want = await fileSha256(source);
    const guestDir = (await ssh.run('mktemp -d /tmp/vmkit-guest-XXXXXX', {})).stdout.trim();
    const guestPath = `${guestDir}/copied.bin`;
    const into = await ssh.copyIn(createReadStream(source), guestPath, { mode: 0o640, owner: USER_1000 });
    expect(into).toEqual({ bytes: 50 * 1024 * 1024, sha256: want, transport: 'ssh' });
    expect((await ssh.run(['sha256sum', guestPath], {})).stdout.split(' ')[0]).toBe(want);
    expect((await ssh.run(['stat', '-c', '%a %U', guestPath], {})).stdout).toBe(`640 ${USER_1000}\n`);
    const back = join(dir, 'back.bin');
    const sink = createWriteStream(back);
    const out = await ssh.copyOut(guestPath, sink, {});
    await new Promise<void>((resolve, reject) => sink.end((e?: Error | null) => (e ? reject(e) : resolve())));
    expect(out).toEqual({ bytes: 50 * 1024 * 1024, sha256: want, transport: 'ssh' });
    expect(await fileSha256(back)).toBe(want);
    expect((await ssh.run(['ls', '-A', guestDir], {})).stdout).toBe('copied.bin\n');
    await ssh.run(['rm', '-rf', guestDir], {});
  }, 120_000);

  it('leaves nothing at or beside the path when a copy fails or is aborted; bad paths are named', async () => {
    const guestDir = (await ssh.run('mktemp -d /tmp/vmkit-guest-XXXXXX', {})).stdout.trim();
    const failing = Readable.from(
      (async function* () {
        yield randomBytes(1024 * 1024);
        throw new Error('the source broke');
      })(),
    );
    await expect(ssh.copyIn(failing, `${guestDir}/f`, { mode: 0o644 })).rejects.toThrow(/the source broke/);
    const controller = new AbortController();
    const endless = Readable.from(
      (async function* () {
        for (let i = 0; ; i++) {
          if (i === 4) controller.abort();
          yield randomBytes(256 * 1024);
        }
      })(),
    );
    await expect(
      ssh.copyIn(endless, `${guestDir}/g`, { mode: 0o644, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await ssh.run(['ls', '-A', guestDir], {})).stdout).toBe('');
    const missingDir = await ssh
      .copyIn(Readable.from([Buffer.from('x')]), '/nonexistent-vmkit/dir/f', { mode: 0o644 })
      .catch((e: unknown) => e);
    expect(VmkitError.is(missingDir, 'NOT_FOUND') && missingDir.details.field).toBe('guestPath');
    await expect(ssh.copyIn(Readable.from([]), 'relative/path', { mode: 0o644 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const sink = createWriteStream(join(dir, 'never'));
    const missing = await ssh.copyOut(`${guestDir}/absent`, sink, {}).catch((e: unknown) => e);
    sink.destroy();
    expect(VmkitError.is(missing, 'NOT_FOUND') && missing.details.field).toBe('guestPath');
    // A destination that fails is the copy's failure, not a crash.
    const failingSink = new Writable({
      write: (_chunk, _encoding, callback) => callback(new Error('the disk is full')),
    });
    await expect(ssh.copyOut('/etc/passwd', failingSink, {})).rejects.toThrow(/the disk is full/);
    await ssh.run(['rm', '-rf', guestDir], {});
  });

  it('logs in as a non-root user: runs as that user, refuses root without sudo (UNSUPPORTED), copies and kills as that user', async () => {
    const login = await service.getNodeCredentials(userNode.id);
    expect(login?.user).toBe(USER_1000);
    const asUser = await sshTransportFactory({ credentials, logger: silentLogger })(userNode, {});
    try {
      expect((await asUser.run('id -u', { user: USER_1000 })).stdout).toBe('1000\n');
      const root = await asUser.run('id -u', {}).catch((e: unknown) => e);
      expect(VmkitError.is(root, 'UNSUPPORTED')).toBe(true);
      expect((root as Error).message).toMatch(/no sudo/);
      const guestDir = (
        await asUser.run('mktemp -d /tmp/vmkit-user-XXXXXX', { user: USER_1000 })
      ).stdout.trim();
      const bytes = randomBytes(100_000);
      const into = await asUser.copyIn(Readable.from([bytes]), `${guestDir}/f`, { mode: 0o600 });
      expect(into.sha256).toBe(sha256(bytes));
      expect((await asUser.run(['stat', '-c', '%a %U', `${guestDir}/f`], { user: USER_1000 })).stdout).toBe(
        `600 ${USER_1000}\n`,
      );
      const marker = 5000 + Math.floor(Math.random() * 999);
      await expect(
        asUser.run(`sleep ${marker} & sleep ${marker + 1}`, { user: USER_1000, timeoutMs: 1000 }),
      ).rejects.toMatchObject({ code: 'TIMEOUT' });
      // The kill may finish just after the TIMEOUT came back: wait (bounded) for the processes to go.
      const deadline = Date.now() + 10_000;
      let left = '';
      do left = (await ssh.run(`pgrep -f '^sleep ${marker}' || echo none`, {})).stdout;
      while (
        left !== 'none\n' &&
        Date.now() < deadline &&
        (await new Promise((r) => setTimeout(r, 200, true)))
      );
      expect(left).toBe('none\n');
      await asUser.run(['rm', '-rf', guestDir], { user: USER_1000 });
    } finally {
      await asUser.close();
    }
  });

  it('is what the compute service uses for transport ssh: runScriptOnNode, copyToNode, copyFromNode', async () => {
    const r = await service.runScriptOnNode(node.id, 'id -u; echo err >&2; exit 4', { transport: 'ssh' });
    expect(r).toMatchObject({ exitCode: 4, stdout: '0\n', stderr: 'err\n', transport: 'ssh' });
    const bytes = randomBytes(200_000);
    const guestPath = `/tmp/vmkit-ssh-int-${randomBytes(4).toString('hex')}`;
    const into = await service.copyToNode(node.id, bytes, guestPath, { transport: 'ssh', mode: 0o600 });
    expect(into).toMatchObject({ bytes: bytes.length, sha256: sha256(bytes), transport: 'ssh' });
    const back = join(dir, 'service-back.bin');
    await service.copyFromNode(node.id, guestPath, back, { transport: 'ssh' });
    expect(await fileSha256(back)).toBe(sha256(bytes));
    await service.runScriptOnNode(node.id, ['rm', '-f', guestPath], { transport: 'ssh' });
  });

  it('pins the host key on first contact and refuses a changed one, naming the node, with no secret in the error', async () => {
    const pinned = await credentials.pinnedHostKey(node.id);
    expect(pinned).toBe(await sshd.hostKey());
    const files = await readdir(join(dir, 'credentials'), { recursive: true });
    expect(files.filter((f) => f.startsWith('host-keys/'))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^host-keys\/p-[0-9a-f]{16}$/),
        expect.stringMatching(/^host-keys\/p-[0-9a-f]{16}\/[0-9a-f]{32}$/),
      ]),
    );
    await ssh.close();
    await sshd.newHostKey();
    const error = await open().catch((e: unknown) => e);
    expect(VmkitError.is(error, 'CONFLICT')).toBe(true);
    expect((error as Error).message).toContain(node.name);
    expect((error as Error).message).toMatch(/host key/);
    const login = await service.getNodeCredentials(node.id);
    expect(JSON.stringify(error)).not.toContain(login?.privateKey?.split('\n')[3] as string);
    expect(await credentials.pinnedHostKey(node.id)).toBe(pinned);
    // Destroying the node forgets its pin.
    await service.destroyNode(node.id);
    expect(await credentials.pinnedHostKey(node.id)).toBeUndefined();
    void stat;
    void writeFile;
  });
});
