import { createServer, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testProvider, type VboxTestEnv, vboxTestEnv } from '../../test-support/vbox-env.js';
import { virtualBoxProvider } from '../provider/virtualbox-provider.js';
import { isNotFound } from './errors.js';

const PASSWORD = 'Pw-5ecret-vbox-7781';

/** Every way a caller may print an error: full-depth inspect (hidden fields too) and JSON of each cause. */
function printed(error: unknown): string {
  const out = [inspect(error, { depth: Infinity, showHidden: true }), String(error)];
  for (let e: unknown = error, i = 0; e && i < 20; e = (e as { cause?: unknown }).cause, i++) {
    try {
      out.push(JSON.stringify(e));
      out.push(JSON.stringify({ ...(e as object) }));
    } catch (cycle) {
      out.push(String(cycle));
    }
  }
  return out.join('\n');
}

/** A TCP server that reads the first bytes of each request and resets the connection. */
async function resettingServer(): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((socket: Socket) => {
    socket.once('data', (chunk) => {
      requests.push(chunk.toString('utf8'));
      socket.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, url: `http://127.0.0.1:${port}/`, requests };
}

describe('errors out of the VirtualBox transport carry no request, header or credential', () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    env = await vboxTestEnv({ password: PASSWORD });
  });
  afterAll(async () => {
    await env.close();
  });

  it('a connection reset during logon: the password is nowhere in the error, at any depth', async () => {
    const { server, url, requests } = await resettingServer();
    try {
      const provider = virtualBoxProvider({ url, username: 'admin', password: PASSWORD });
      const error = await provider.init().catch((e: unknown) => e);
      await provider.close();
      // The logon really carried the password, and the reset really reached the caller.
      expect(requests.join('')).toContain(PASSWORD);
      expect(VmkitError.is(error, 'PROVIDER')).toBe(true);
      expect((error as Error).message).toMatch(/ECONNRESET/);
      const text = printed(error);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toMatch(/<password>|IWebsessionManager_logon|SOAPAction|content-type/i);
    } finally {
      server.close();
    }
  });

  it('a fault after logon: neither the request body (websession id) nor the password is in the error', async () => {
    const provider = testProvider(env);
    const error = await provider.startNode(`${env.prefix}ghost`).catch((e: unknown) => e);
    await provider.close();
    // The fault itself stays readable through the cause, only the transport's data goes.
    expect(VmkitError.is(error, 'NOT_FOUND')).toBe(true);
    expect(isNotFound(error)).toBe(true);
    const text = printed(error);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toMatch(/<_this>|IVirtualBox_findMachine|SOAPAction|content-type/i);
  });
});
