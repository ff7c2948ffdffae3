import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type MasterSpec, type ProgressEvent } from '@vmkit/core';
import type { BlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3Server, type TestS3Server } from '../../../store-s3/src/testing/s3-test-server.js';
import { sharedStorePairs } from '../../../store-s3/src/testing/test-store.js';
import {
  isoMasterSpec,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../test-support/vbox-env.js';
import type { VboxSimulator } from '../testing/index.js';

/** A qcow2 whose bytes are not all zero: a few marked blocks at known offsets. */
function markedQcow2(dir: string): string {
  const raw = join(dir, 'marked.raw');
  const blocks = Buffer.alloc(8 * 1024 * 1024);
  for (const at of [0, 1024 * 1024 + 17, 5 * 1024 * 1024 + 4096])
    blocks.write(`vmkit shared master block at ${at}`, at, 'latin1');
  writeFileSync(raw, blocks);
  const qcow2 = join(dir, 'marked.qcow2');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  return qcow2;
}

/** Calls the simulator answered of one operation. */
const calls = (sim: VboxSimulator, operation: string) => sim.calls.get(operation) ?? 0;

/** The base disk of the disk that a node's current state uses (its linked clone's chain). */
function baseOf(sim: VboxSimulator, location: string): string {
  const media = sim.media();
  let at = media.find((m) => m.location === location);
  while (at?.parent) at = media.find((m) => m.location === at?.parent);
  return at?.location ?? '';
}

describe('shareMasters between two VirtualBox hosts (two simulators, one store)', () => {
  let a: VboxTestEnv;
  let b: VboxTestEnv;
  let server: TestS3Server;
  const dir = mkdtempSync(join(tmpdir(), 'vmkit-vbox-share-'));
  let installed: MasterSpec;
  let disk: MasterSpec;
  beforeAll(async () => {
    [a, b, server] = await Promise.all([vboxTestEnv(), vboxTestEnv(), startTestS3Server()]);
    installed = await isoMasterSpec(a, 'vbox-shared-iso');
    disk = {
      id: 'vbox-shared-disk',
      os: { family: 'linux', version: 'test', arch: 'x86_64' },
      source: { type: 'disk', path: markedQcow2(dir), format: 'qcow2' },
      hardware: { cores: 1, ramMiB: 256 },
    };
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), server?.dispose()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const stores = sharedStorePairs(() => server, join(dir, 'store'));

  it.each(stores)(
    'over %s: host A installs and publishes; host B adopts both masters with zero builds and clones nodes from them',
    async (name, open) => {
      const tag = name.includes('S3') ? 's3' : 'fs';
      const [storeA, storeB] = await open();
      const [simA, simB] = [simOf(a), simOf(b)];
      const service = (env: VboxTestEnv, store: BlobStore, host: string): Promise<ComputeService> =>
        createComputeService({
          provider: testProvider(env, { namePrefix: `${env.prefix}${tag}-` }),
          store,
          images: [installed, disk],
          shareMasters: true,
          ports: { leaseDir: join(env.folder, `leases-${tag}-${host}`) },
        });
      simA.resetCounters();
      simB.resetCounters();
      await using serviceA = await service(a, storeA, 'a');
      const published: ProgressEvent[] = [];
      for (const spec of [installed, disk])
        await serviceA.ensureImage(spec.id, { onProgress: (e) => published.push(e) });
      // Host A really built: its simulator created the installer's disk and booted the installer.
      expect(calls(simA, 'IMedium_createBaseStorage')).toBe(1);
      expect(calls(simA, 'IMachine_launchVMProcess')).toBe(1);
      expect(published.filter((e) => e.step === 'publish' && e.fraction === 1)).toHaveLength(2);
      const shared = (await storeA.list('vmkit-images-shared')).items.map((i) => i.name);
      const records = shared.filter((n) => n.endsWith('.json'));
      expect(records).toHaveLength(2);
      for (const r of records) {
        const record = JSON.parse((await (await storeA.getBlob('vmkit-images-shared', r))?.text()) ?? '{}');
        expect(record).toMatchObject({ format: 'qcow2', compression: 'qcow2' });
        expect(shared).toContain(record.blob);
      }

      await using serviceB = await service(b, storeB, 'b');
      const events: ProgressEvent[] = [];
      for (const spec of [installed, disk]) {
        const image = await serviceB.ensureImage(spec.id, { onProgress: (e) => events.push(e) });
        expect(image.status).toBe('available');
      }
      // Zero builds on B: no build step reported, and its simulator never created an installer
      // disk or booted a machine; both masters came down from the store.
      expect(events.filter((e) => e.phase === 'build')).toEqual([]);
      expect(events.filter((e) => e.step === 'download' && e.fraction === 1)).toHaveLength(2);
      expect(calls(simB, 'IMedium_createBaseStorage')).toBe(0);
      expect(calls(simB, 'IMachine_launchVMProcess')).toBe(0);
      // B's masters are machines in B's simulator, with their disks in B's machine folder.
      const masters = simB.machines().filter((m) => m.name.startsWith(`${b.prefix}${tag}-m-`));
      expect(masters).toHaveLength(2);
      for (const m of masters) {
        expect(m.snapshots).toEqual(['vmkit-base']);
        expect(baseOf(simB, m.media[0] ?? '').startsWith(join(b.folder, 'machines'))).toBe(true);
      }
      expect(simA.machines().filter((m) => m.name.startsWith(`${b.prefix}`))).toEqual([]);
      // The disk master's bytes crossed over: B's VDI holds what the source qcow2 held.
      const diskMaster = masters.find((m) => m.name.includes('vbox-shared-disk'));
      const bVdi = baseOf(simB, diskMaster?.media[0] ?? '');
      execFileSync('qemu-img', [
        'compare',
        '-q',
        '-f',
        'vdi',
        '-F',
        'qcow2',
        bVdi,
        join(dir, 'marked.qcow2'),
      ]);

      for (const spec of [installed, disk]) {
        const template = await serviceB.templateBuilder().imageId(spec.id).build();
        const [node] = await serviceB.createNodesInGroup('shr', 1, template);
        expect(node?.status).toBe('running');
        expect(node?.linkedClone).toBe(true);
        const machine = simB.machines().find((m) => m.name === node?.id);
        const master = masters.find((m) => m.name.includes(spec.id));
        // A linked clone of B's own imported master.
        expect(baseOf(simB, machine?.media[0] ?? '')).toBe(baseOf(simB, master?.media[0] ?? ''));
        await serviceB.destroyNode(node?.id ?? '');
      }
      expect(simB.rejections).toEqual([]);
      expect(simA.rejections).toEqual([]);
      for (const s of [storeA, storeB]) await (s as Partial<AsyncDisposable>)[Symbol.asyncDispose]?.();
    },
  );
});
