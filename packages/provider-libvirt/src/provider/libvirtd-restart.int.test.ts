import { VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '../../test-support/private-libvirtd.js';
import { runPrefix } from '../../test-support/test-guest.js';
import { libvirtProvider } from './libvirt-provider.js';
import type { LibvirtProviderOptions } from './libvirt-provider-options.js';

// On a private libvirtd (test-support/private-libvirtd.ts): the machine's shared daemon is never stopped.
const prefix = runPrefix('r');
let daemon: PrivateLibvirtd;

/** A provider on the private daemon. */
const providerOnDaemon = (extra: Partial<LibvirtProviderOptions> = {}) =>
  libvirtProvider({
    uri: daemon.uri,
    pool: daemon.pool,
    poolPath: daemon.poolPath,
    namePrefix: prefix,
    ...extra,
  });

describe('libvirtd going away and coming back', () => {
  beforeAll(async () => {
    daemon = await startPrivateLibvirtd('restart');
  }, 120_000);
  afterAll(async () => {
    await daemon?.dispose();
  }, 60_000);

  it('fails an upload in flight with a retryable interrupted error; calls wait for the daemon to come back', async () => {
    const provider = providerOnDaemon();
    await provider.init();
    const id = provider.id;
    const client = provider.client!;
    const pool = await client.storage.poolLookupByName(daemon.pool);
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
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (sent >= 8 * 1024 * 1024) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    await daemon.stop();
    const error = await upload;
    expect(VmkitError.is(error, 'PROVIDER')).toBe(true);
    expect(error).toMatchObject({ retryable: true, message: expect.stringMatching(/libvirtd/) });
    expect(sent).toBeLessThan(size);

    // A call made while the daemon is down waits for it (the client reconnects on its own).
    const listing = provider.listNodes();
    await daemon.start();
    expect(await listing).toEqual([]);
    expect(client.reconnects).toBeGreaterThanOrEqual(1);
    expect(await client.getType()).toBe('QEMU');
    // The restarted daemon is the same host: a new provider gets the same id (the catalogue stays).
    const again = providerOnDaemon();
    await again.init();
    expect(again.id).toBe(id);
    await again.close();
    await client.storage.volDelete(await client.storage.volLookupByName(pool, `${prefix}big.raw`));
    await provider.close();
  }, 120_000);

  it('gives up reconnecting after the policy total, with a retryable error saying so; the next call tries again', async () => {
    const provider = providerOnDaemon({ reconnect: { initialDelayMs: 50, maxDelayMs: 100, totalMs: 500 } });
    try {
      await provider.init();
      await daemon.stop();
      const down = await provider.listNodes().catch((e: unknown) => e);
      expect(down).toMatchObject({
        code: 'PROVIDER',
        retryable: true,
        message: expect.stringMatching(
          /is libvirtd running\?.*gave up reconnecting to libvirt at .* after \d+ tries/s,
        ),
      });
      await daemon.start();
      expect(await provider.listNodes()).toEqual([]);
    } finally {
      await provider.close();
    }
  }, 120_000);
});
