import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openSshSession } from './ssh-session.js';

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** A TCP port that accepts and says nothing, as QEMU's user-network forward does before sshd runs. */
async function silentPort(): Promise<number> {
  const sockets = new Set<import('node:net').Socket>();
  server = createServer((socket) => sockets.add(socket));
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

describe('openSshSession', () => {
  it('fails once with a VmkitError when the handshake times out, and the late "connection lost" does not crash the process', async () => {
    const port = await silentPort();
    const unhandled: unknown[] = [];
    const onUncaught = (error: unknown) => unhandled.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const error = await openSshSession({
        endpoint: { host: '127.0.0.1', port },
        login: { user: 'nobody', password: 'x' },
        hostKeys: { pinned: async () => undefined, pin: async () => undefined },
        node: 'n1',
        readyTimeoutMs: 300,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'VmkitError' });
      // The server side goes away after the client gave up: ssh2 reports the lost connection too.
      server?.close();
      await new Promise((r) => setTimeout(r, 300));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
