import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type ProgressEvent, VmkitError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { waitForGuestPage } from '../../test-support/http.js';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { DomainProcedures } from '../client/domain-procedures.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { libvirtProvider } from './libvirt-provider.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('o');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-nodeops-'));

describe('node operations on qemu:///system: abort and progress', () => {
  let compute: ComputeService;
  const loadEvents: ProgressEvent[] = [];
  beforeAll(async () => {
    compute = await createComputeService(
      {
        provider: libvirtProvider({
          uri: URI,
          pool: POOL,
          namePrefix: prefix,
          // A long grace period, and nodes whose guest ignores the ACPI power button.
          stopGraceMs: 120_000,
          nodeCmdline: (c) => `${c.replace(/\bmode=install\b/, 'mode=run')} vmkit.acpi=ignore`,
        }),
        store: fileSystemBlobStore({ root: join(dir, 'store') }),
        images: [testGuestMasterSpec('nodeops-guest')],
        ports: { leaseDir: join(dir, 'leases') },
      },
      { onProgress: (e) => loadEvents.push(e) },
    );
  }, 60_000);
  afterAll(async () => {
    await compute?.close();
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reported load events while starting up against libvirt', () => {
    expect(loadEvents.map((e) => e.phase)).toEqual(loadEvents.map(() => 'load'));
    expect(loadEvents.at(-1)?.fraction).toBe(1);
    expect(loadEvents.some((e) => e.message === 'libvirt connected')).toBe(true);
  });

  it('ends a graceful stop of a guest that ignores ACPI within ms of the abort, leaving it running; destroy reports progress and leaves nothing', async () => {
    const [node] = await compute.createNodesInGroup('ops', 1, { inboundPorts: [80] });
    const id = node?.id as string;
    const url = `http://127.0.0.1:${node?.hostPorts['tcp-80']}/`;
    await waitForGuestPage(url);

    // The abort comes once libvirt has answered the ACPI shutdown request for this node's domain
    // (observed on the client), so it lands in the grace period's wait, not before the stop began.
    let requested!: (name: string) => void;
    const shutdownRequested = new Promise<string>((r) => (requested = r));
    const shutdown = DomainProcedures.prototype.shutdown;
    const spy = vi.spyOn(DomainProcedures.prototype, 'shutdown').mockImplementation(async function (
      this: DomainProcedures,
      ...args: Parameters<DomainProcedures['shutdown']>
    ) {
      await shutdown.apply(this, args);
      requested(args[0].name);
    });
    const { domains } = await leftovers(URI, `${prefix}ops-`, POOL);
    expect(domains).toHaveLength(1);
    const caller = new AbortController();
    const stopping = compute.stopNode(id, { signal: caller.signal });
    let abortedAt: number;
    try {
      const ended = stopping.then(
        () => 'the stop ended before any shutdown request',
        (e: unknown) => `the stop failed before any shutdown request: ${e}`,
      );
      expect(await Promise.race([shutdownRequested, ended])).toBe(domains[0]);
      abortedAt = performance.now();
      caller.abort(new Error('the caller gave up'));
    } finally {
      spy.mockRestore();
    }
    const error = await stopping.then(
      () => undefined,
      (e: unknown) => e,
    );
    const lateMs = performance.now() - abortedAt;
    expect(VmkitError.is(error, 'ABORTED')).toBe(true);
    // Ended by the abort, not by the 120 s grace period (bound generous for a loaded machine).
    expect(lateMs).toBeLessThan(5_000);
    // Consistent: the guest ignored the button and still runs and answers.
    expect((await compute.getNode(id))?.status).toBe('running');
    // (No config drive: the guest keeps its default hostname.)
    expect((await waitForGuestPage(url, 10_000)).page.hostname).toBe('vmkit');

    const events: ProgressEvent[] = [];
    await compute.destroyNode(id, { onProgress: (e) => events.push(e) });
    expect(events.every((e) => e.phase === 'destroy' && e.node === node?.name)).toBe(true);
    expect(events.map((e) => e.fraction)).toEqual([0, 1, 1]);
    expect(events[1]?.message).toMatch(/^domain vt\S+ and [1-9]\d* volume\(s\) removed$/);
    expect(await compute.getNode(id)).toBeUndefined();
    expect(await leftovers(URI, `${prefix}ops-`, POOL)).toEqual({ domains: [], volumes: [] });
  }, 240_000);

  it('gives a node data volumes the guest sees: a vfat one mounted by label serving its file, a blank one, raw content; all removed with it', async () => {
    const [node] = await compute.createNodesInGroup('data', 1, {
      inboundPorts: [80],
      dataVolumes: [
        {
          sizeMiB: 16,
          filesystem: 'vfat',
          label: 'VMKITDATA',
          files: { 'notes/hello.txt': 'hello from a data volume' },
        },
        { sizeMiB: 64 },
        { sizeMiB: 1, content: 'raw seed' },
      ],
    });
    const base = `http://127.0.0.1:${node?.hostPorts['tcp-80']}`;
    await waitForGuestPage(`${base}/`);
    const blocks = (await (await fetch(`${base}/blocks`)).text()).trim().split('\n');
    expect(blocks.slice(1)).toEqual(['vdb 16777216 VMKITDATA', 'vdc 67108864 -', 'vdd 1048576 -']);
    const file = await fetch(`${base}/data/VMKITDATA/notes/hello.txt`);
    expect(file.status).toBe(200);
    expect(await file.text()).toBe('hello from a data volume');
    // The raw volume holds its content at offset 0 (read on the host, in the pool's directory).
    const client = await LibvirtClient.connect(URI);
    try {
      const pool = await client.storage.poolLookupByName(POOL);
      const vol = await client.storage.volLookupByName(pool, `${node?.id}-data2.img`);
      const head = Buffer.alloc(9);
      const handle = await open(await client.storage.volGetPath(vol), 'r');
      await handle.read(head, 0, 9, 0).finally(() => handle.close());
      expect([...head]).toEqual([...Buffer.from('raw seed'), 0]);
    } finally {
      await client.close();
    }

    await compute.destroyNode(node?.id as string);
    expect(await leftovers(URI, `${prefix}data-`, POOL)).toEqual({ domains: [], volumes: [] });
  }, 240_000);

  it('rolls a node back with the data volumes it had made when a later one cannot be written', async () => {
    const error = await compute
      .createNodesInGroup('bad', 1, {
        dataVolumes: [
          { sizeMiB: 8 },
          { sizeMiB: 1, filesystem: 'vfat', files: { 'big.bin': new Uint8Array(2 * 1024 * 1024) } },
        ],
      })
      .catch((e: unknown) => e);
    expect(VmkitError.is(error)).toBe(true);
    const cause = (error as { errors?: Array<{ error: VmkitError }> }).errors?.[0]?.error;
    expect(cause?.code).toBe('INVALID_ARGUMENT');
    expect(cause?.message).toMatch(/^dataVolumes\[1\]: /);
    expect(await leftovers(URI, `${prefix}bad-`, POOL)).toEqual({ domains: [], volumes: [] });
  }, 120_000);
});
