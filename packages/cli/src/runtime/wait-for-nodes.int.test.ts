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
  return nodeWith(
    name,
    ports.map((hostPort, i) => ({ hostPort, guestPort: 80 + i })),
  );
}

function nodeWith(name: string, forwards: Array<{ hostPort: number; guestPort: number }>): NodeMetadata {
  const portForwards = forwards.map(({ hostPort, guestPort }) => ({
    name: `tcp-${guestPort}`,
    protocol: 'tcp' as const,
    hostIp: '127.0.0.1',
    hostPort,
    guestPort,
  }));
  return {
    name,
    network: { nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:00:01', portForwards }] },
  } as never;
}

const never = new AbortController().signal;

describe('waiting for nodes to answer', () => {
  it('ssh: only an SSH greeting on the forward of guest port 22 answers; a silent or foreign listener does not', async () => {
    let up = false;
    const sshd = await listen(
      createServer((socket) => {
        if (up) socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
        // Until then, like QEMU's user networking for a guest whose sshd is not up: open, silent.
      }),
    );
    const web = await listen(createServer((socket) => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n')));
    setTimeout(() => {
      up = true;
    }, 1500);
    const started = Date.now();
    const late = await waitForNodes(
      [nodeWith('a', [{ hostPort: sshd, guestPort: 22 }]), nodeWith('b', [{ hostPort: web, guestPort: 22 }])],
      { kind: 'ssh' },
      Date.now() + 9000,
      never,
    );
    expect(late).toEqual(['b']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(unwaitable(node('c', sshd), { kind: 'ssh' })).toMatch(/no forward of guest port 22/);
  });

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
