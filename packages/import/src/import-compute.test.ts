import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type ComputeService, createComputeService } from '@vmkit/core';
import { memoryBlobStore } from '@vmkit/core/blobstore';
import { VmkitError } from '@vmkit/core/spi';
import { type MemoryProvider, memoryMasterDisk, memoryProvider } from '@vmkit/core/testing';
import type { ConvertRequest } from '@vmkit/imaging';
import { extract } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeConverter, qcow2Header } from './fake-converter.fixture.js';
import { createImportService, type ImportService } from './import-service.js';
import { NO_INSTANCE_NOTE } from './instance-launch.js';

let dir: string;
let provider: MemoryProvider;
let compute: ComputeService;
const closing: Array<{ close(): Promise<void> }> = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-import-compute-'));
  provider = memoryProvider();
  compute = await createComputeService({
    provider,
    store: memoryBlobStore(),
    images: [
      {
        id: 'guest',
        os: { family: 'linux', version: 'test', arch: 'x86_64' },
        source: { type: 'kernel', kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img' },
        hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
      },
    ],
    ports: { leaseDir: join(dir, 'leases'), probe: false },
  });
  closing.push(compute);
});
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await c.close();
  await rm(dir, { recursive: true, force: true });
});

/** The sha256 of some bytes: compared instead of the bytes, which `toEqual` walks one by one (seconds for 1 MiB). */
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function service(withCompute: boolean, inputs: Uint8Array[] = []): Promise<ImportService> {
  const conv = fakeConverter();
  const s = await createImportService({
    store: memoryBlobStore(),
    scratchDir: join(dir, 'scratch'),
    converter: {
      async convert(req: ConvertRequest) {
        inputs.push(new Uint8Array(await readFile(req.input)));
        return conv.convert(req);
      },
    },
    ...(withCompute ? { compute } : {}),
  });
  closing.push(s);
  return s;
}

async function rawDisk(): Promise<string> {
  const path = join(dir, 'disk.raw');
  await writeFile(path, new Uint8Array(1 << 20).fill(3));
  return path;
}

describe('importInstance launches an instance through the compute service (memory provider)', () => {
  it('converts, registers the image, then creates one node with the requested hardware, its id on the task', async () => {
    const s = await service(true);
    const { conversionTaskId } = await s.importInstance({
      diskImages: [{ format: 'raw', path: await rawDisk() }],
      launchSpecification: { instanceType: 'medium', group: 'imported', options: { userData: 'hi' } },
    });
    const task = await s.waitForTask(conversionTaskId);
    expect(task).toMatchObject({ status: 'completed', kind: 'import-instance' });
    const { imageId, instanceId } = task as { imageId: string; instanceId: string };
    expect(instanceId).toBeDefined();
    expect(task.statusMessage).toBe(
      `completed: instance ${instanceId} (${(await compute.getNode(instanceId))!.name}) launched`,
    );
    expect((await compute.getImage(imageId))?.status).toBe('available');
    const node = await compute.getNode(instanceId);
    expect(node).toMatchObject({ imageId, group: 'imported', status: 'running' });
    expect(node!.hardware).toMatchObject({ id: 'medium', cores: 2, ramMiB: 4096 });
    expect(await compute.listNodes()).toHaveLength(1);
  });

  it('keeps the boot mode asked for: the master and its nodes boot with UEFI; a bad one is named', async () => {
    const s = await service(true);
    const { importTaskId } = await s.importImage({
      diskContainers: [{ format: 'raw', path: await rawDisk() }],
      bootMode: 'uefi',
    });
    const task = await s.waitForTask(importTaskId);
    expect(task).toMatchObject({ status: 'completed', hardware: { firmware: 'efi' } });
    const imageId = (task as { imageId: string }).imageId;
    expect((await s.listImages()).find((i) => i.imageId === imageId)?.hardware).toEqual({ firmware: 'efi' });
    const [node] = await compute.createNodesInGroup(
      'uefi',
      1,
      await compute.templateBuilder().imageId(imageId).build(),
    );
    expect(node?.hardware.firmware).toBe('efi');
    const bad = await s
      .importImage({ diskContainers: [{ format: 'raw', path: await rawDisk() }], bootMode: 'efi' as never })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'bootMode' } });
  });

  it('without a compute service stays a volume import and says so', async () => {
    const s = await service(false);
    const { conversionTaskId } = await s.importInstance({
      diskImages: [{ format: 'raw', path: await rawDisk() }],
    });
    const task = await s.waitForTask(conversionTaskId);
    expect(task).toMatchObject({ status: 'completed', statusMessage: `completed: ${NO_INSTANCE_NOTE}` });
    expect('instanceId' in task).toBe(false);
    expect(await s.listImages()).toHaveLength(1);
  });

  it('refuses a bad launch specification before any work, and a failed launch fails the task but keeps the image', async () => {
    const s = await service(true);
    const path = await rawDisk();
    const bad = await s
      .importInstance({ diskImages: [{ format: 'raw', path }], launchSpecification: { group: 'Bad Group' } })
      .catch((e: unknown) => e);
    expect(VmkitError.is(bad, 'INVALID_ARGUMENT')).toBe(true);
    expect((bad as Error).message).toMatch(/launchSpecification\.group/);
    expect(await s.describeConversionTasks()).toEqual([]);
    const { conversionTaskId } = await s.importInstance({
      diskImages: [{ format: 'raw', path }],
      launchSpecification: { instanceType: 'no-such-profile' },
    });
    const task = await s.waitForTask(conversionTaskId);
    expect(task.status).toBe('deleted');
    expect(task.failureReason).toMatch(/no-such-profile/);
    expect(await compute.listNodes()).toEqual([]);
    const [image] = await s.listImages();
    // The kept image is the conversion's output (the fake writes a qcow2 header of the input's size).
    expect(sha256(await readFile(image!.path))).toBe(sha256(qcow2Header(1 << 20)));
  });
});

describe("importInstance's platform", () => {
  it('gives the image its OS family; a value AWS does not have, or one disagreeing with os, is refused before any work', async () => {
    const s = await service(false);
    const path = await rawDisk();
    const { conversionTaskId } = await s.importInstance({
      diskImages: [{ format: 'raw', path }],
      platform: 'Windows',
    });
    expect((await s.waitForTask(conversionTaskId)).status).toBe('completed');
    expect((await s.listImages())[0]?.os).toEqual({ family: 'windows', version: 'imported', arch: 'x86_64' });
    const refused = async (req: object) => {
      const error = await s
        .importInstance({ diskImages: [{ format: 'raw', path }], ...req } as Parameters<
          typeof s.importInstance
        >[0])
        .catch((e: unknown) => e);
      expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      return (error as Error).message;
    };
    expect(await refused({ platform: 'BeOS' })).toMatch(/^platform: must be 'Linux' or 'Windows'/);
    expect(
      await refused({ platform: 'Linux', os: { family: 'windows', version: '2022', arch: 'x86_64' } }),
    ).toMatch(/^platform: is Linux but os\.family is windows/);
    expect(await s.describeConversionTasks()).toHaveLength(1);
  });
});

describe("exportImage of the compute service's own images (memory provider)", () => {
  it("converts the master's disk, copied through exportImageDisk, with its format given", async () => {
    const inputs: Uint8Array[] = [];
    const s = await service(true, inputs);
    const { exportImageTaskId } = await s.exportImage({
      imageId: 'guest',
      diskImageFormat: 'vmdk',
      destination: { path: join(dir, 'guest.vmdk') },
    });
    const task = await s.waitForTask(exportImageTaskId);
    expect(task).toMatchObject({ status: 'completed', imageId: 'guest', diskImageFormat: 'vmdk' });
    const [master] = provider.masterNames();
    expect(inputs.map(sha256)).toEqual([sha256(memoryMasterDisk(master!))]);
    // The destination holds what the converter made of the master's disk, not something else.
    expect(sha256(await readFile(join(dir, 'guest.vmdk')))).toBe(
      sha256(qcow2Header(memoryMasterDisk(master!).length)),
    );
    expect(await readdir(join(dir, 'scratch', 'tasks'))).toEqual([]);
  });

  it("writes a compute image as a libvirt box: the master's converted disk as box.img, with metadata.json", async () => {
    const s = await service(true);
    const { exportImageTaskId } = await s.exportImage({
      imageId: 'guest',
      diskImageFormat: 'box',
      destination: { path: join(dir, 'guest.box') },
    });
    expect(await s.waitForTask(exportImageTaskId)).toMatchObject({
      status: 'completed',
      boxProvider: 'libvirt',
    });
    const names: string[] = [];
    const ex = extract();
    ex.on('entry', (header, stream, next) => {
      names.push(header.name);
      stream.resume();
      next();
    });
    await pipeline(createReadStream(join(dir, 'guest.box')), ex);
    expect(names).toEqual(['metadata.json', 'Vagrantfile', 'box.img']);
    expect(await readdir(join(dir, 'scratch', 'tasks'))).toEqual([]);
  });

  it('is NOT_FOUND for an image neither imported nor known to compute, and without compute', async () => {
    const dest = { path: join(dir, 'x.raw') };
    const withCompute = await service(true);
    const e1 = await withCompute
      .exportImage({ imageId: 'nope', diskImageFormat: 'raw', destination: dest })
      .catch((e: unknown) => e);
    expect(VmkitError.is(e1, 'NOT_FOUND')).toBe(true);
    expect((e1 as Error).message).toMatch(/compute service/);
    const without = await service(false);
    const e2 = await without
      .exportImage({ imageId: 'guest', diskImageFormat: 'raw', destination: dest })
      .catch((e: unknown) => e);
    expect(VmkitError.is(e2, 'NOT_FOUND')).toBe(true);
  });
});

describe('where imports are kept by default: the blob store when the compute service shares masters (memory provider)', () => {
  async function importWith(
    shareMasters: boolean,
    imageStore?: 'local' | 'blob',
    giveStore = true,
  ): Promise<{ blobs: unknown; stored: boolean; shares: boolean }> {
    const sharing = await createComputeService({
      provider: memoryProvider(),
      store: memoryBlobStore(),
      shareMasters,
      ports: { leaseDir: join(dir, 'leases'), probe: false },
    });
    closing.push(sharing);
    const store = memoryBlobStore();
    const s = await createImportService({
      ...(giveStore ? { store } : {}),
      scratchDir: join(dir, 'scratch'),
      converter: fakeConverter(),
      compute: sharing,
    });
    closing.push(s);
    const { importTaskId } = await s.importImage({
      diskContainers: [{ format: 'raw', path: await rawDisk() }],
      imageId: 'kept',
      ...(imageStore ? { imageStore } : {}),
    });
    expect((await s.waitForTask(importTaskId)).status).toBe('completed');
    const [image] = await s.listImages();
    return {
      blobs: image?.blobs,
      stored: giveStore && (await store.blobExists('vmkit-import', 'disks/kept/disk0.qcow2')),
      shares: sharing.sharesMasters,
    };
  }

  it('uploads the disk without being asked when compute.sharesMasters', async () => {
    const kept = await importWith(true);
    expect(kept).toEqual({
      blobs: [{ name: 'disks/kept/disk0.qcow2', sha256: expect.any(String), size: expect.any(Number) }],
      stored: true,
      shares: true,
    });
  });

  it("honours an explicit imageStore: 'local' under a sharing compute service", async () => {
    expect(await importWith(true, 'local')).toEqual({ blobs: undefined, stored: false, shares: true });
  });

  it("keeps the disk local under a sharing compute service when no store was given (the default one is this host's own)", async () => {
    expect(await importWith(true, undefined, false)).toEqual({
      blobs: undefined,
      stored: false,
      shares: true,
    });
  });

  it('keeps the disk local by default when compute does not share masters', async () => {
    expect(await importWith(false)).toEqual({ blobs: undefined, stored: false, shares: false });
  });
});
