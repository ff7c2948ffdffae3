import { createServer, type Server } from 'node:net';
import type { AnswerSession } from '@vmkit/core/spi';
import { afterEach, describe, expect, it } from 'vitest';
import { installPortForward, watchInstallSignal } from './install-signal.js';

function session(installFinished: AnswerSession['installFinished'], calls: string[] = []): AnswerSession {
  return {
    delivery: ['http'],
    files: new Map(),
    driveLabel: 'OEMDRV',
    installFinished,
    server: { url: 'http://10.0.2.2:1/x', port: 1, served: [], calls, close: async () => {} },
    expand: (text) => text,
    close: async () => {},
  };
}

/**
 * A listener on 127.0.0.1: `answers` answers what it gets (as an HTTP server answers vmkit's
 * request), `holds` keeps each connection silent (QEMU's forward before the guest's network is
 * up), `closes` drops it at once (QEMU's forward when the guest refuses).
 */
async function listener(kind: 'answers' | 'holds' | 'closes'): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    if (kind === 'closes') socket.destroy();
    if (kind === 'answers') socket.once('data', () => socket.write('HTTP/1.0 200 OK\r\n\r\n'));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

const waitUntil = async (check: () => boolean, ms: number) => {
  for (const end = Date.now() + ms; Date.now() < end && !check(); )
    await new Promise((r) => setTimeout(r, 100));
  return check();
};

describe('the install-finished signal of a libvirt installer', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  it('is nothing to watch and no forward with the power-off', async () => {
    const answers = session('poweroff');
    expect(await installPortForward(answers)).toBeUndefined();
    expect(watchInstallSignal(answers, undefined, new AbortController().signal)).toBeUndefined();
  });

  it('{ call }: seen once the answer server recorded the call', async () => {
    const calls: string[] = [];
    const answers = session({ call: 'done' }, calls);
    expect(await installPortForward(answers)).toBeUndefined();
    const watch = watchInstallSignal(answers, undefined, new AbortController().signal);
    expect(watch?.what).toBe('call done');
    expect(watch?.seen).toBe(false);
    calls.push('other');
    expect(watch?.seen).toBe(false);
    calls.push('done');
    expect(watch?.seen).toBe(true);
  });

  it('{ port }: a forward from a free host port on 127.0.0.1 to the guest port', async () => {
    const forward = await installPortForward(session({ port: 22 }));
    expect(forward).toMatchObject({ protocol: 'tcp', hostIp: '127.0.0.1', guestPort: 22 });
    expect(forward?.hostPort).toBeGreaterThan(0);
  });

  it('{ port }: only bytes from the guest count; a connection held silent or closed at once does not', async () => {
    const answering = await listener('answers');
    const holding = await listener('holds');
    const closing = await listener('closes');
    servers.push(answering.server, holding.server, closing.server);
    const stop = new AbortController();
    const forward = { name: 'f', protocol: 'tcp' as const, hostIp: '127.0.0.1', guestPort: 22 };
    const watch = (port: number) =>
      watchInstallSignal(session({ port: 22 }), { ...forward, hostPort: port }, stop.signal);
    const held = watch(holding.port);
    const closed = watch(closing.port);
    const answered = watch(answering.port);
    expect(answered?.what).toBe('port 22 answering');
    expect(await waitUntil(() => answered?.seen === true, 5_000)).toBe(true);
    // Two tries of the silent one (5 s each) and several of the closing one.
    await new Promise((r) => setTimeout(r, 7_000));
    expect(held?.seen).toBe(false);
    expect(closed?.seen).toBe(false);
    stop.abort();
    for (const w of [held, closed, answered]) w?.stop();
  }, 20_000);
});
