import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunScriptError } from '../errors/run-script-error.js';
import type { GuestTransport } from '../guest/guest-transport.js';
import { HostGuestAgent } from '../guest/host-guest-agent.fixture.js';
import { rejection } from '../guest/rejection.fixture.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { GuestAgentAccess } from '../spi/guest-agent.js';
import { memoryProvider } from '../testing/memory-provider.js';
import { silentLogger } from '../util/logger.js';
import type { ProgressEvent } from '../util/progress.js';
import type { ComputeService } from './compute-service.js';
import { type GuestOperationParts, runScriptOnNode } from './guest-operations.js';
import { type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});
const files = mkdtempSync(join(tmpdir(), 'vmkit-guest-ops-'));
afterAll(() => rmSync(files, { recursive: true, force: true }));

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A service whose memory nodes get a host-executing agent session each time; `down` silences them. */
async function withAgents(): Promise<{
  service: ComputeService;
  health: { down: boolean };
  accesses: GuestAgentAccess[];
}> {
  const health = { down: false };
  const accesses: GuestAgentAccess[] = [];
  const provider = memoryProvider({
    guestAgent: (node, access) => {
      accesses.push(access);
      return new HostGuestAgent({ env: { NODE_NAME: node.name }, isDown: () => health.down });
    },
  });
  return { service: await s.service(provider), health, accesses };
}

describe('without a guest agent or SSH', () => {
  it('refuses commands, copies and agent waits UNSUPPORTED, saying why', async () => {
    const service = await s.service(memoryProvider());
    const [node] = await service.createNodesInGroup('plain', 1);
    const id = (node as NodeMetadata).id;
    const error = await rejection(service.runScriptOnNode(id, 'true'));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/capability guestAgent/);
    // SSH is there, but vmkit stored no login for this node (it got no config drive).
    expect(error.message).toMatch(/no stored login for SSH/);
    expect((await rejection(service.runScriptOnNode(id, 'true', { transport: 'agent' }))).code).toBe(
      'UNSUPPORTED',
    );
    expect((await rejection(service.runScriptOnNode(id, 'true', { transport: 'ssh' }))).code).toBe(
      'UNSUPPORTED',
    );
    expect((await rejection(service.copyToNode(id, new Uint8Array(1), '/tmp/x'))).code).toBe('UNSUPPORTED');
    expect((await rejection(service.waitForNode(id, { until: 'agent' }))).code).toBe('UNSUPPORTED');
  });

  it('says NOT_FOUND for an unknown node and CONFLICT for one not running, and checks input first', async () => {
    const { service } = await withAgents();
    expect((await rejection(service.runScriptOnNode('no-such-node', 'true'))).code).toBe('NOT_FOUND');
    const [node] = await service.createNodesInGroup('web', 1);
    const id = (node as NodeMetadata).id;
    await service.stopNode(id);
    expect((await rejection(service.runScriptOnNode(id, 'true'))).code).toBe('CONFLICT');
    expect((await rejection(service.copyFromNode(id, 'etc/passwd', new PassThrough()))).details.field).toBe(
      'guestPath',
    );
    expect(
      (await rejection(service.runScriptOnNode(id, 'true', { transport: 'telnet' as 'ssh' }))).details.field,
    ).toBe('transport');
    expect((await rejection(service.getNodeCredentials('no-such-node'))).code).toBe('NOT_FOUND');
  });
});

describe('with a guest agent', () => {
  it('runs a script through the agent, reporting exec progress', async () => {
    const { service, accesses } = await withAgents();
    const [node] = await service.createNodesInGroup('web', 1);
    const events: ProgressEvent[] = [];
    const r = await service.runScriptOnNode((node as NodeMetadata).id, 'echo "$NODE_NAME"; exit 3', {
      onProgress: (e) => events.push(e),
    });
    expect(r).toMatchObject({ exitCode: 3, stdout: `${node?.name}\n`, transport: 'agent' });
    expect(events.map((e) => e.phase)).toEqual(['exec', 'exec']);
    expect(accesses.length).toBeGreaterThan(0);
  });

  it('keeps one run directory per node across calls and removes them when it closes', async () => {
    const { service } = await withAgents();
    const nodes = await service.createNodesInGroup('web', 2);
    // The script's stdout is a file in the run directory: its path names the directory.
    const dirOf = async (node: NodeMetadata) => {
      const out = (await service.runScriptOnNode(node.id, 'readlink /proc/self/fd/1')).stdout.trim();
      expect(out).toMatch(/\/vmkit-runs-[0-9a-f]{16}\/[0-9a-f]{16}\.out$/);
      return out.slice(0, out.lastIndexOf('/'));
    };
    const [a, b] = nodes as [NodeMetadata, NodeMetadata];
    const first = await dirOf(a);
    expect(await dirOf(a)).toBe(first);
    const other = await dirOf(b);
    expect(other).not.toBe(first);
    expect(readdirSync(first)).toEqual([]);
    await service.close();
    expect(() => readdirSync(first)).toThrow(/ENOENT/);
    expect(() => readdirSync(other)).toThrow(/ENOENT/);
  });

  it('runs on matching nodes with a concurrency limit; one failure is named in one error carrying every result', async () => {
    const { service } = await withAgents();
    const nodes = await service.createNodesInGroup('fleet', 4);
    const bad = (nodes[2] as NodeMetadata).name;
    const error = await rejection(
      service.runScriptOnNodesMatching(
        (n) => n.group === 'fleet',
        `echo "$NODE_NAME"; [ "$NODE_NAME" != ${bad} ]`,
        {
          concurrency: 2,
        },
      ),
    );
    expect(error).toBeInstanceOf(RunScriptError);
    const e = error as RunScriptError;
    expect(e.results).toHaveLength(4);
    expect(e.failed.map((r) => r.node.name)).toEqual([bad]);
    expect(e.message).toContain(bad);
    expect(e.results.map((r) => r.result?.stdout.trim())).toEqual(nodes.map((n) => n.name));
    expect(e.failed[0]?.result?.exitCode).toBe(1);
    const ok = await service.runScriptOnNodesMatching((n) => n.name !== bad, 'true');
    expect(ok).toHaveLength(3);
  });

  it('returns within a second of an abort', async () => {
    const { service } = await withAgents();
    const [node] = await service.createNodesInGroup('web', 1);
    const controller = new AbortController();
    const running = service.runScriptOnNode((node as NodeMetadata).id, 'sleep 30', {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    const t0 = Date.now();
    expect((await rejection(running)).code).toBe('ABORTED');
    expect(Date.now() - t0).toBeLessThan(1200);
  });

  it('copies bytes and files in and out, SHA-256 checked, leaving nothing half-copied', async () => {
    const { service } = await withAgents();
    const [node] = await service.createNodesInGroup('web', 1);
    const id = (node as NodeMetadata).id;
    const data = randomBytes(700_000);
    const guestFile = join(files, 'guest-side.bin');
    const events: ProgressEvent[] = [];
    const copied = await service.copyToNode(id, data, guestFile, {
      mode: 0o600,
      onProgress: (e) => events.push(e),
    });
    expect(copied).toMatchObject({ bytes: data.length, sha256: sha(data), transport: 'agent' });
    expect(events.every((e) => e.phase === 'copy')).toBe(true);
    const hostSource = join(files, 'host-source.bin');
    writeFileSync(hostSource, data);
    await service.copyToNode(id, hostSource, guestFile);
    const outDir = mkdtempSync(join(files, 'out-'));
    const outFile = join(outDir, 'copy.bin');
    expect((await service.copyFromNode(id, guestFile, outFile)).sha256).toBe(sha(data));
    expect(sha(readFileSync(outFile))).toBe(sha(data));
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    await service.copyFromNode(id, guestFile, sink);
    expect(sha(Buffer.concat(chunks))).toBe(sha(data));
    // A failed copy out leaves nothing at the destination path.
    await rejection(service.copyFromNode(id, join(files, 'no-such-file'), join(outDir, 'missing.bin')));
    expect(readdirSync(outDir)).toEqual(['copy.bin']);
    expect(
      (await rejection(service.copyToNode(id, join(files, 'no-such-source'), guestFile))).details.field,
    ).toBe('source');
  });

  it('waits for the agent to answer, with wait progress, and times out naming the reason', async () => {
    const { service, health } = await withAgents();
    const [node] = await service.createNodesInGroup('web', 1);
    const id = (node as NodeMetadata).id;
    health.down = true;
    const timeout = await rejection(service.waitForNode(id, { until: 'agent', timeoutMs: 600 }));
    expect(timeout.code).toBe('TIMEOUT');
    expect(timeout.message).toMatch(/no guest agent answers/);
    setTimeout(() => {
      health.down = false;
    }, 400);
    const events: ProgressEvent[] = [];
    const ready = await service.waitForNode(id, {
      until: 'agent',
      timeoutMs: 10_000,
      onProgress: (e) => events.push(e),
    });
    expect(ready.id).toBe(id);
    expect(events.length).toBeGreaterThan(1);
    expect(events.every((e) => e.phase === 'wait')).toBe(true);
    const controller = new AbortController();
    health.down = true;
    setTimeout(() => controller.abort(), 100);
    expect(
      (await rejection(service.waitForNode(id, { until: 'agent', signal: controller.signal }))).code,
    ).toBe('ABORTED');
  });

  it('waits for a forwarded TCP port and an HTTP path', async () => {
    const { service } = await withAgents();
    const [node] = await service.createNodesInGroup('web', 1, {
      network: { nics: [{ attachment: 'nat', portForwards: [{ protocol: 'tcp', guestPort: 80 }] }] },
    });
    const id = (node as NodeMetadata).id;
    const hostPort = node?.network.nics[0]?.portForwards[0]?.hostPort as number;
    const sockets = new Set<import('node:net').Socket>();
    const tcp = createServer((socket) => sockets.add(socket)); // a listener keeps the connection open
    setTimeout(() => tcp.listen(hostPort, '127.0.0.1'), 300);
    await service.waitForNode(id, { until: { port: 80 }, timeoutMs: 10_000 });
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => tcp.close(r));
    let healthy = false;
    const http = createHttpServer((req, res) => {
      res.statusCode = req.url === '/health' && healthy ? 200 : 503;
      res.end();
    }).listen(hostPort, '127.0.0.1');
    setTimeout(() => {
      healthy = true;
    }, 400);
    await service.waitForNode(id, { until: { http: '/health', port: 80 }, timeoutMs: 10_000 });
    await new Promise((r) => http.close(r));
    expect((await rejection(service.waitForNode(id, { until: { port: 0 } }))).details.field).toBe(
      'until.port',
    );
  });
});

describe('transport choice', () => {
  function sshStub(): { factory: GuestOperationParts['sshTransport']; opened: string[] } {
    const opened: string[] = [];
    const transport: GuestTransport = {
      kind: 'ssh',
      run: async () => ({
        exitCode: 0,
        stdout: 'via ssh',
        stderr: '',
        truncated: false,
        durationMs: 1,
        transport: 'ssh',
      }),
      copyIn: async () => ({ bytes: 0, sha256: '', transport: 'ssh' }),
      copyOut: async () => ({ bytes: 0, sha256: '', transport: 'ssh' }),
      close: async () => undefined,
    };
    return {
      opened,
      factory: async (node) => {
        opened.push(node.name);
        return transport;
      },
    };
  }

  async function parts(health: { down: boolean } | undefined, ssh = sshStub()) {
    const provider = memoryProvider(
      health ? { guestAgent: () => new HostGuestAgent({ isDown: () => health.down }) } : {},
    );
    const service = await s.service(provider);
    const [node] = await service.createNodesInGroup('web', 1);
    const credentials = { user: 'vmkit', password: 'secret' };
    const p: GuestOperationParts = {
      provider,
      sshTransport: ssh.factory,
      nodeCredentials: { forNode: async () => credentials },
      logger: silentLogger,
      getNode: (id) => service.getNode(id),
      background: () => undefined,
    };
    return { p, id: (node as NodeMetadata).id, ssh };
  }

  it('auto takes the agent when it answers, SSH when it does not or the provider has none', async () => {
    const health = { down: false };
    const a = await parts(health);
    expect((await runScriptOnNode(a.p, a.id, 'true')).transport).toBe('agent');
    health.down = true;
    expect((await runScriptOnNode(a.p, a.id, 'true')).stdout).toBe('via ssh');
    expect((await runScriptOnNode(a.p, a.id, 'true', { transport: 'ssh' })).transport).toBe('ssh');
    const b = await parts(undefined);
    expect((await runScriptOnNode(b.p, b.id, 'true')).transport).toBe('ssh');
    expect((await rejection(runScriptOnNode(b.p, b.id, 'true', { transport: 'agent' }))).code).toBe(
      'UNSUPPORTED',
    );
  });

  it('hands the agent the node stored login', async () => {
    const seen: GuestAgentAccess[] = [];
    const provider = memoryProvider({
      guestAgent: (_node, access) => {
        seen.push(access);
        return new HostGuestAgent();
      },
    });
    const service = await s.service(provider);
    const [node] = await service.createNodesInGroup('web', 1);
    const p: GuestOperationParts = {
      provider,
      nodeCredentials: { forNode: async () => ({ user: 'vmkit', password: 'pw' }) },
      logger: silentLogger,
      getNode: (id) => service.getNode(id),
      background: () => undefined,
    };
    await runScriptOnNode(p, (node as NodeMetadata).id, 'true');
    expect(seen[0]?.credentials).toEqual({ user: 'vmkit', password: 'pw' });
  });
});
