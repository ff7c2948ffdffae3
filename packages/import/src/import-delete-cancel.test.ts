import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService } from '@vmkit/core';
import { type BlobStore, memoryBlobStore } from '@vmkit/core/blobstore';
import { memoryProvider } from '@vmkit/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../test-support/import-fixtures.js';
import { type FakeConverter, fakeConverter } from './fake-converter.fixture.js';
import { createImportService, type ImportService } from './import-service.js';

let dir: string;
let compute: ComputeService;
let store: BlobStore;
const closing: Array<{ close(): Promise<void> }> = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-import-delete-'));
  store = memoryBlobStore();
  compute = await createComputeService({
    provider: memoryProvider(),
    store: memoryBlobStore(),
    ports: { leaseDir: join(dir, 'leases'), probe: false },
  });
  closing.push(compute);
});
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await c.close();
  await rm(dir, { recursive: true, force: true });
});

async function service(converter: FakeConverter): Promise<ImportService> {
  const s = await createImportService({
    store,
    scratchDir: join(dir, 'scratch'),
    imageDir: join(dir, 'images'),
    converter,
    compute,
  });
  closing.push(s);
  return s;
}

async function importRaw(s: ImportService, imageId: string): Promise<void> {
  const path = join(dir, `${imageId}.raw`);
  await writeFile(path, new Uint8Array(1 << 20).fill(5));
  const { importTaskId } = await s.importImage({ diskContainers: [{ format: 'raw', path }], imageId });
  expect((await s.waitForTask(importTaskId)).status).toBe('completed');
}

describe('deleteImportedImage', () => {
  it('is refused while a node uses the image, then with force removes the nodes, the master, the record and the disks', async () => {
    const s = await service(fakeConverter());
    await importRaw(s, 'appliance');
    const template = await compute.templateBuilder().imageId('appliance').build();
    const [node] = await compute.createNodesInGroup('app', 1, template);
    await expect(s.deleteImportedImage('appliance')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await s.listImages()).map((i) => i.imageId)).toEqual(['appliance']);
    expect(existsSync(join(dir, 'images', 'appliance', 'disk0.qcow2'))).toBe(true);
    expect(await compute.getNode(node!.id)).toBeDefined();

    await s.deleteImportedImage('appliance', { force: true });
    expect(await s.listImages()).toEqual([]);
    expect(await compute.getImage('appliance')).toBeUndefined();
    expect(await compute.getNode(node!.id)).toBeUndefined();
    expect(existsSync(join(dir, 'images', 'appliance'))).toBe(false);
    await s.close();
    // The record is gone from the store: a new service does not list the image.
    expect(await (await service(fakeConverter())).listImages()).toEqual([]);
  });

  it('deletes an unused image at once, refuses unknown ids and images an export is reading', async () => {
    const conv = fakeConverter();
    const s = await service(conv);
    await importRaw(s, 'unused');
    await s.deleteImportedImage('unused');
    expect(await compute.getImage('unused')).toBeUndefined();
    await expect(s.deleteImportedImage('unused')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    await importRaw(s, 'busy');
    const held = fakeConverter({ hold: true });
    const h = await service(held);
    const { exportImageTaskId } = await h.exportImage({
      imageId: 'busy',
      diskImageFormat: 'vmdk',
      destination: { path: join(dir, 'busy.vmdk') },
    });
    await until(async () => held.calls.length > 0);
    await expect(h.deleteImportedImage('busy')).rejects.toThrow(
      new RegExp(`export task ${exportImageTaskId}`),
    );
    held.release();
    await h.waitForTask(exportImageTaskId);
  });
});

describe('cancelExportTask', () => {
  it('ends a running export: cancelled, its scratch gone, no output; a completed export refuses', async () => {
    const conv = fakeConverter();
    const s = await service(conv);
    await importRaw(s, 'img');
    const held = fakeConverter({ hold: true });
    const h = await service(held);
    const out = join(dir, 'img.box');
    const { exportImageTaskId } = await h.exportImage({
      imageId: 'img',
      diskImageFormat: 'box',
      destination: { path: out },
    });
    await until(async () => held.calls.length > 0);
    const task = await h.cancelExportTask(exportImageTaskId, 'changed my mind');
    expect(task).toMatchObject({
      status: 'cancelled',
      failureReason: 'changed my mind',
      boxProvider: 'libvirt',
    });
    expect(existsSync(out)).toBe(false);
    expect(await readdir(join(dir, 'scratch', 'tasks'))).toEqual([]);
    await expect(h.cancelImportTask(exportImageTaskId)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const { exportImageTaskId: done } = await s.exportImage({
      imageId: 'img',
      diskImageFormat: 'qcow2',
      destination: { path: join(dir, 'img.qcow2') },
    });
    await s.waitForTask(done);
    await expect(s.cancelExportTask(done)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(existsSync(join(dir, 'img.qcow2'))).toBe(true);
  });
});
