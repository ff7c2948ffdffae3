import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LibvirtClient } from './libvirt-client.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A socket that accepts connections and never answers. */
async function silentDaemon(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vmkit-silent-'));
  const path = join(dir, 'sock');
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => {
    sockets.push(s);
    s.on('data', () => {});
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(path, r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return path;
}

describe('LibvirtClient.connect', () => {
  it('applies connectTimeoutMs to the whole open: a daemon that accepts but never answers times out', async () => {
    const path = await silentDaemon();
    const t0 = Date.now();
    const error = await LibvirtClient.connect({
      uri: `test+unix:///default?socket=${path}`,
      connectTimeoutMs: 300,
    }).catch((e: unknown) => e);
    // Without the bound the open waits for ever; 10 s leaves a loaded machine room (the message names 300 ms).
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(error).toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/handshake within 300 ms/),
    });
  });
});
