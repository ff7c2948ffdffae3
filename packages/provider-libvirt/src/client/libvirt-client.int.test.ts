import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isClosedError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LibvirtError } from '../errors/libvirt-error.js';
import { RemoteProcedure } from '../rpc/procedures.js';
import { DomainEventType, type DomainLifecycleEvent } from './domain-events.js';
import { DomainState } from './domain-procedures.js';
import type { StoragePoolHandle } from './handles.js';
import { LibvirtClient } from './libvirt-client.js';

const run = `vmkit-it-${Date.now().toString(36)}`;
const fakeSsh = fileURLToPath(new URL('../../test-fixtures/fake-ssh.sh', import.meta.url));

const domainXml = (name: string) => `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory>
  <os><type>hvm</type></os></domain>`;

describe('LibvirtClient on test+unix:///default', () => {
  let client: LibvirtClient;
  beforeAll(async () => {
    client = await LibvirtClient.connect('test+unix:///default');
  });
  afterAll(async () => {
    await client.close();
  });

  it('opens the test driver and answers connection-level calls', async () => {
    expect(await client.getType()).toBe('TEST');
    expect(await client.getUri()).toBe('test:///default');
    expect(await client.getLibVersion()).toBeGreaterThanOrEqual(9_000_000);
    expect(await client.getCapabilities()).toContain('<capabilities>');
  });

  it('defines, starts, suspends, resumes, destroys and undefines a domain, with lifecycle events', async () => {
    const events: DomainLifecycleEvent[] = [];
    const stop = await client.onDomainLifecycle((e) => events.push(e));
    const name = `${run}-dom`;
    const dom = await client.domains.defineXml(domainXml(name));
    try {
      expect((await client.domains.lookupByName(name)).uuid).toEqual(dom.uuid);
      expect((await client.domains.listAll()).map((d) => d.name)).toContain(name);
      const running = await client.domains.create(dom);
      expect(running.id).toBeGreaterThan(0);
      expect((await client.domains.getState(dom)).state).toBe(DomainState.RUNNING);
      await client.domains.suspend(dom);
      expect((await client.domains.getState(dom)).state).toBe(DomainState.PAUSED);
      await client.domains.resume(dom);
      expect(await client.domains.getXmlDesc(dom)).toContain(`<name>${name}</name>`);
      await client.domains.destroy(dom);
      expect(await client.domains.isActive(dom)).toBe(false);
    } finally {
      await client.domains.undefine(dom);
    }
    await expect(client.domains.lookupByName(name)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      libvirtCode: 42,
    });
    const mine = () => events.filter((e) => e.domain.name === name).map((e) => e.event);
    // Events arrive after the calls answered: wait for the last one, then check the whole list.
    await vi.waitFor(() => expect(mine()).toContain(DomainEventType.UNDEFINED), { timeout: 10_000 });
    expect(mine()).toEqual([
      DomainEventType.DEFINED,
      DomainEventType.STARTED,
      DomainEventType.SUSPENDED,
      DomainEventType.RESUMED,
      DomainEventType.STOPPED,
      DomainEventType.UNDEFINED,
    ]);
    await stop();
  });

  it('a listener added after the connection was lost and made again hears events', async () => {
    const own = await LibvirtClient.connect('test+unix:///default');
    try {
      const first = await own.onDomainLifecycle(() => {});
      (await own.connection()).close();
      await first();
      await own.getLibVersion();
      expect(own.reconnects).toBe(1);
      const seen: number[] = [];
      const stop = await own.onDomainLifecycle((e) => {
        if (e.domain.name === `${run}-again`) seen.push(e.event);
      });
      const dom = await own.domains.defineXml(domainXml(`${run}-again`));
      await own.domains.undefine(dom);
      await vi.waitFor(() => expect(seen).toContain(DomainEventType.UNDEFINED), { timeout: 10_000 });
      expect(seen).toEqual([DomainEventType.DEFINED, DomainEventType.UNDEFINED]);
      await stop();
    } finally {
      await own.close();
    }
  });

  it('two concurrent first listeners share one registration with the daemon', async () => {
    const own = await LibvirtClient.connect('test+unix:///default');
    try {
      const conn = await own.connection();
      const spy = vi.spyOn(conn, 'call');
      const [a, b] = await Promise.all([own.onDomainLifecycle(() => {}), own.onDomainLifecycle(() => {})]);
      const registrations = spy.mock.calls.filter(
        ([p]) => p === RemoteProcedure.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
      );
      expect(registrations).toHaveLength(1);
      await a();
      await b();
    } finally {
      await own.close();
    }
  });

  it('close() while reconnecting leaves no connection open', async () => {
    const own = await LibvirtClient.connect('test+unix:///default');
    (await own.connection()).close();
    const call = own.getLibVersion().catch((e: unknown) => e);
    await own.close();
    expect(isClosedError(await call)).toBe(true);
    await expect(own.getLibVersion()).rejects.toSatisfy(isClosedError);
    await expect(own.connection()).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'the libvirt client for test+unix:///default is closed',
    });
    expect(own.connected).toBe(false);
  });

  it('runs many calls concurrently over one connection', async () => {
    const versions = await Promise.all(Array.from({ length: 200 }, () => client.getLibVersion()));
    expect(new Set(versions).size).toBe(1);
  });

  it('reports libvirt errors as typed LibvirtErrors', async () => {
    const error = await client.domains.defineXml('<domain>').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibvirtError);
    expect(error).toMatchObject({ code: 'PROVIDER', procedure: 'DOMAIN_DEFINE_XML_FLAGS' });
    expect((error as LibvirtError).libvirtCode).toBeGreaterThan(0);
    await expect(client.storage.poolLookupByName(`${run}-none`)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      libvirtCode: 49,
    });
    await expect(client.networks.lookupByName(`${run}-none`)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      libvirtCode: 43,
    });
  });

  it('defines, starts, lists, stops and undefines a network', async () => {
    const name = `${run}-net`.slice(0, 15);
    const net = await client.networks.defineXml(
      `<network><name>${name}</name><bridge name='vb${Date.now() % 100000}'/></network>`,
    );
    try {
      await client.networks.create(net);
      expect(await client.networks.isActive(net)).toBe(true);
      expect((await client.networks.listAll()).map((n) => n.name)).toContain(name);
      expect(await client.networks.getXmlDesc(net)).toContain(name);
      await client.networks.destroy(net);
    } finally {
      await client.networks.undefine(net);
    }
    await expect(client.networks.lookupByName(name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('LibvirtClient on qemu:///system', () => {
  let client: LibvirtClient;
  let pool: StoragePoolHandle;
  let dir: string;
  beforeAll(async () => {
    client = await LibvirtClient.connect({ uri: 'qemu:///system' });
    dir = mkdtempSync(join(tmpdir(), 'vmkit-pool-'));
    pool = await client.storage.poolCreateXml(
      `<pool type='dir'><name>${run}-pool</name><target><path>${dir}</path></target></pool>`,
    );
  });
  afterAll(async () => {
    for (const v of await client.storage.poolListAllVolumes(pool).catch(() => []))
      await client.storage.volDelete(v);
    await client.storage.poolDestroy(pool).catch(() => {});
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the QEMU driver and its capabilities', async () => {
    expect(await client.getType()).toBe('QEMU');
    expect(await client.getVersion()).toBeGreaterThanOrEqual(7_000_000);
    expect(await client.getCapabilities()).toMatch(/<domain type='qemu'/);
  });

  it('uploads bytes into a volume and downloads them back unchanged (streams)', async () => {
    const size = 3 * 1024 * 1024 + 123;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >> 9)) & 0xff;
    const vol = await client.storage.volCreateXml(
      pool,
      `<volume><name>up.raw</name><capacity unit='bytes'>${size}</capacity><target><format type='raw'/></target></volume>`,
    );
    let progress = 0;
    const sent = await client.storage.volUpload(vol, data, {}, { onBytes: (n) => (progress = n) });
    expect(sent).toBe(size);
    expect(progress).toBe(size);
    const info = await client.storage.volGetInfo(vol);
    expect(info.capacity).toBe(size);
    expect(await client.storage.volGetPath(vol)).toBe(join(dir, 'up.raw'));
    const chunks: Buffer[] = [];
    for await (const chunk of await client.storage.volDownload(vol)) chunks.push(chunk as Buffer);
    const back = Buffer.concat(chunks);
    expect(back.length).toBe(size);
    expect(back.equals(Buffer.from(data))).toBe(true);
    const part = Buffer.concat(
      await (await client.storage.volDownload(vol, { offset: 1000, length: 10 })).toArray(),
    );
    expect(part.equals(Buffer.from(data.subarray(1000, 1010)))).toBe(true);
    // The connection still serves calls after the streams.
    expect((await client.storage.volLookupByName(pool, 'up.raw')).key).toBe(vol.key);
  });

  it('an unread 64 MiB download holds up no other call, and keepalive does not time out', async () => {
    const strict = await LibvirtClient.connect({
      uri: 'qemu:///system',
      keepaliveIntervalMs: 100,
      keepaliveCount: 3,
    });
    try {
      const vol = await strict.storage.volCreateXml(
        pool,
        `<volume><name>big.raw</name><capacity unit='MiB'>64</capacity><allocation>0</allocation><target><format type='raw'/></target></volume>`,
      );
      const stream = await strict.storage.volDownload(vol);
      const errors: unknown[] = [];
      stream.on('error', (e) => errors.push(e));
      // The download has data waiting unread (observed), then stays unread for five times
      // keepalive's limit (3 × 100 ms): the time is the claim here.
      await vi.waitFor(() => expect(stream.readableLength).toBeGreaterThan(0), { timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 1500));
      // Held up, the call would wait for 64 MiB nobody reads, i.e. for ever: the bound is generous.
      const t0 = Date.now();
      expect(await strict.getLibVersion()).toBeGreaterThan(0);
      expect(Date.now() - t0).toBeLessThan(5_000);
      let total = 0;
      for await (const chunk of stream) total += (chunk as Buffer).length;
      expect(total).toBe(64 << 20);
      expect(errors).toEqual([]);
      expect(strict.connected).toBe(true);
      expect(strict.reconnects).toBe(0);
      await strict.storage.volDelete(vol);
    } finally {
      await strict.close();
    }
  });

  it('aborts an upload on signal and stays usable', async () => {
    const vol = await client.storage.volCreateXml(
      pool,
      `<volume><name>abort.raw</name><capacity unit='bytes'>${8 << 20}</capacity><target><format type='raw'/></target></volume>`,
    );
    const ac = new AbortController();
    async function* slow() {
      for (let i = 0; i < 32; i++) {
        if (i === 3) ac.abort();
        yield new Uint8Array(256 * 1024);
      }
    }
    await expect(client.storage.volUpload(vol, slow(), {}, { signal: ac.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(await client.getLibVersion()).toBeGreaterThan(0);
    await client.storage.volDelete(vol);
  });

  it('creates a qcow2 overlay backed by a volume and a full copy of it', async () => {
    const base = await client.storage.volCreateXml(
      pool,
      `<volume><name>base.qcow2</name><capacity unit='MiB'>16</capacity><target><format type='qcow2'/></target></volume>`,
    );
    const basePath = await client.storage.volGetPath(base);
    const overlay = await client.storage.volCreateXml(
      pool,
      `<volume><name>ov.qcow2</name><capacity unit='MiB'>16</capacity><target><format type='qcow2'/></target>
       <backingStore><path>${basePath}</path><format type='qcow2'/></backingStore></volume>`,
    );
    expect(await client.storage.volGetXmlDesc(overlay)).toContain(basePath);
    const copy = await client.storage.volCreateXmlFrom(
      pool,
      `<volume><name>copy.qcow2</name><capacity unit='MiB'>16</capacity><target><format type='qcow2'/></target></volume>`,
      base,
    );
    expect((await client.storage.volGetXmlDesc(copy)).includes('<backingStore>')).toBe(false);
    await client.storage.poolRefresh(pool);
    const names = (await client.storage.poolListAllVolumes(pool)).map((v) => v.name).sort();
    expect(names).toEqual(expect.arrayContaining(['base.qcow2', 'copy.qcow2', 'ov.qcow2']));
  });
});

describe('LibvirtClient over an ssh tunnel', () => {
  it('reaches the daemon through the ssh command and virt-ssh-helper', async () => {
    const client = await LibvirtClient.connect({
      uri: 'test+ssh://nobody@localhost/default',
      sshBinary: fakeSsh,
    });
    try {
      expect(await client.getType()).toBe('TEST');
      expect((await client.domains.listAll()).map((d) => d.name)).toContain('test');
    } finally {
      await client.close();
    }
  });

  it('reports a tunnel that cannot start as a PROVIDER error', async () => {
    await expect(
      LibvirtClient.connect({
        uri: 'test+ssh://localhost/default?proxy=netcat&netcat=/nonexistent',
        sshBinary: fakeSsh,
        allowUriPrograms: true,
      }),
    ).rejects.toMatchObject({ code: 'PROVIDER' });
  });

  it("reports an unreachable host with ssh's own message (the real ssh)", async () => {
    const connecting = LibvirtClient.connect({ uri: 'qemu+ssh://nobody@127.0.0.1:1/system' });
    await expect(connecting).rejects.toMatchObject({ code: 'PROVIDER' });
    await expect(connecting).rejects.toThrow(
      /^ssh to 127\.0\.0\.1 for qemu\+ssh:\/\/\*\*\*@127\.0\.0\.1:1\/system failed: ssh: connect to host 127\.0\.0\.1 port 1: Connection refused$/,
    );
  });
});
