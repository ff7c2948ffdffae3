import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import type { NodeMetadata } from '@vmkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { unwaitable, waitForNodes } from './wait-for-nodes.js';

// Real sockets on 127.0.0.1 stand for a node's forwarded host ports.
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

function node(name: string, ...ports: number[]): NodeMetadata {
  const portForwards = ports.map((hostPort, i) => ({
    name: `tcp-${80 + i}`,
    protocol: 'tcp' as const,
    hostIp: '127.0.0.1',
    hostPort,
    guestPort: 80 + i,
  }));
  return {
    name,
    network: { nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:00:01', portForwards }] },
  } as never;
}

const never = new AbortController().signal;

describe('waiting for nodes to answer', () => {
  it('port: a listener that keeps the connection answers; one that closes it at once (a guest refusing behind QEMU) does not', async () => {
    const keeps = await listen(createServer(() => {}));
    const closes = await listen(createServer((socket) => socket.destroy()));
    const late = await waitForNodes(
      [node('a', keeps), node('b', closes)],
      { kind: 'port' },
      Date.now() + 4000,
      never,
    );
    expect(late).toEqual(['b']);
  });

  it('http: waits until GET PATH answers 2xx/3xx, not before', async () => {
    let ready = false;
    const http = createHttpServer((req, res) => {
      res.statusCode = ready && req.url === '/healthz' ? 200 : 503;
      res.end();
    });
    const port = await listen(http as unknown as Server);
    setTimeout(() => {
      ready = true;
    }, 1500);
    const started = Date.now();
    const late = await waitForNodes(
      [node('a', port)],
      { kind: 'http', path: '/healthz' },
      Date.now() + 20_000,
      never,
    );
    expect(late).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    ready = false;
    expect(
      await waitForNodes([node('a', port)], { kind: 'http', path: '/healthz' }, Date.now() + 1500, never),
    ).toEqual(['a']);
  });

  it('names what cannot be waited for: no TCP forward; several for http', () => {
    expect(unwaitable(node('a'), { kind: 'port' })).toMatch(/no TCP port forward/);
    expect(unwaitable(node('a', 1, 2), { kind: 'http', path: '/' })).toMatch(/forwards 2 TCP ports/);
    expect(unwaitable(node('a', 1, 2), { kind: 'port' })).toBeUndefined();
  });
});
