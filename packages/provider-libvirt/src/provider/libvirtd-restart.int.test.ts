import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VmkitError } from '@vmkit/core/spi';
import { afterAll, describe, expect, it } from 'vitest';
import { sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../test-support/test-guest.js';
import { libvirtProvider } from './libvirt-provider.js';

const URI = 'qemu:///system';
const prefix = runPrefix('r');
const ensureScript = fileURLToPath(
  new URL('../../../../scripts/libvirt/ensure-libvirtd.sh', import.meta.url),
);
const PID_FILE = `${process.env.VMKIT_LIBVIRT_STATE ?? '/run/vmkit'}/libvirtd.pid`;

/** Stops the libvirtd that scripts/libvirt/ensure-libvirtd.sh started (by its pid file) and waits for it to exit. */
async function stopLibvirtd(): Promise<void> {
  const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`libvirtd ${pid} did not stop`);
}

describe('libvirtd going away and coming back', () => {
  afterAll(async () => {
    execFileSync('bash', [ensureScript], { stdio: 'inherit' });
    await sweep(URI, prefix, 'vmkit');
  });

  it('fails the operation in flight with a clear PROVIDER error, then reconnects when the daemon is back', async () => {
    const provider = libvirtProvider({ uri: URI, namePrefix: prefix });
    await provider.init();
    const id = provider.id;
    const client = provider.client!;
    const pool = await client.storage.poolLookupByName('vmkit');
    const size = 1024 * 1024 * 1024;
    const vol = await client.storage.volCreateXml(
      pool,
      `<volume><name>${prefix}big.raw</name><capacity unit='bytes'>${size}</capacity><target><format type='raw'/></target></volume>`,
    );
    async function* zeros() {
      const chunk = new Uint8Array(1024 * 1024);
      for (let i = 0; i < 1024; i++) yield chunk;
    }
    let sent = 0;
    const upload = client.storage.volUpload(vol, zeros(), {}, { onBytes: (n) => (sent = n) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    while (sent < 8 * 1024 * 1024) await new Promise((r) => setTimeout(r, 10));
    await stopLibvirtd();
    const error = await upload;
    expect(VmkitError.is(error, 'PROVIDER')).toBe(true);
    expect((error as Error).message).toMatch(/libvirtd/);
    expect(sent).toBeLessThan(size);

    const down = await provider.listNodes().catch((e: unknown) => e);
    expect(down).toMatchObject({ code: 'PROVIDER', message: expect.stringMatching(/is libvirtd running\?/) });

    execFileSync('bash', [ensureScript], { stdio: 'inherit' });
    expect(await provider.listNodes()).toEqual([]);
    expect(client.reconnects).toBeGreaterThanOrEqual(1);
    expect(await client.getType()).toBe('QEMU');
    // The restarted daemon is the same host: a new provider gets the same id (the catalogue stays).
    const again = libvirtProvider({ uri: URI, namePrefix: prefix });
    await again.init();
    expect(again.id).toBe(id);
    await again.close();
    await client.storage.volDelete(await client.storage.volLookupByName(pool, `${prefix}big.raw`));
    await provider.close();
  });
});
