import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryBlobStore } from '@vmkit/core/blobstore';
import { VmkitError } from '@vmkit/core/spi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeConverter, fakeConverter, qcow2Header } from './fake-converter.fixture.js';
import { createImportService, type ImportService } from './import-service.js';
import type { ImportServiceOptions } from './import-service-options.js';

let dir: string;
let services: ImportService[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-import-unit-'));
});
afterEach(async () => {
  await Promise.all(services.map((s) => s.close()));
  services = [];
  await rm(dir, { recursive: true, force: true });
});

async function service(converter: FakeConverter, extra: Partial<ImportServiceOptions> = {}) {
  const s = await createImportService({
    store: memoryBlobStore(),
    scratchDir: join(dir, 'scratch'),
    converter,
    limits: { tasks: 1 },
    ...extra,
  });
  services.push(s);
  return s;
}

async function rawFile(name: string, size = 1 << 20): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, new Uint8Array(size).fill(7));
  return path;
}

/** Waits until `check` holds; throws (naming the wait) if it never does, rather than going on. */
const until = async (check: () => Promise<boolean>, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`still not so after ${ms} ms: ${check}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('import tasks (fake converter)', () => {
  it('imports a raw file: pending → converting → completed, with hashes and an image', async () => {
    const conv = fakeConverter();
    const s = await service(conv);
    const { importTaskId } = await s.importImage({
      diskContainers: [{ format: 'raw', path: await rawFile('a.raw') }],
    });
    expect(importTaskId).toMatch(/^import-ami-[0-9a-f]{17}$/);
    const done = await s.waitForTask(importTaskId);
    expect(done).toMatchObject({ status: 'completed', statusMessage: 'completed', progress: '100' });
    const [task] = await s.describeImportImageTasks({ importTaskIds: [importTaskId] });
    expect(task!.imageId).toBe(`ami-${importTaskId.slice(11)}`);
    expect(task!.snapshotDetails[0]).toMatchObject({
      format: 'raw',
      diskImageSize: 1 << 20,
      virtualSize: 1 << 20,
    });
    expect(task!.snapshotDetails[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(conv.calls[0]).toMatchObject({ inputFormat: 'raw', outputFormat: 'qcow2' });
    expect((await s.listImages()).map((i) => i.imageId)).toEqual([task!.imageId]);
    expect(await readdir(join(dir, 'scratch', 'tasks'))).toEqual([]);
  });

  it('importVolume and importInstance run on the same engine, listed by describeConversionTasks', async () => {
    const s = await service(fakeConverter());
    const path = await rawFile('v.raw');
    const vol = (await s.importVolume({ image: { format: 'raw', path } })).conversionTaskId;
    const inst = (await s.importInstance({ diskImages: [{ format: 'raw', path }], description: 'vm' }))
      .conversionTaskId;
    await s.waitForTask(vol);
    await s.waitForTask(inst);
    const tasks = await s.describeConversionTasks();
    expect(tasks.map((t) => [t.kind, t.status])).toEqual([
      ['import-volume', 'completed'],
      ['import-instance', 'completed'],
    ]);
    expect(tasks[0]!.volumeId).toBe(`vol-${vol.slice(11)}`);
    expect(tasks[1]!.imageId).toBe(`ami-${inst.slice(9)}`);
    expect(await s.describeImportImageTasks()).toEqual([]);
    expect((await s.listImages()).map((i) => i.imageId)).toEqual([tasks[1]!.imageId]);
    expect(await s.describeImportImageTasks({ filters: { 'task-state': ['completed'] } })).toEqual([]);
  });

  it('the same clientToken returns the same task', async () => {
    const s = await service(fakeConverter());
    const path = await rawFile('b.raw');
    const a = await s.importImage({ diskContainers: [{ format: 'raw', path }], clientToken: 't1' });
    const b = await s.importImage({ diskContainers: [{ format: 'raw', path }], clientToken: 't1' });
    expect(b).toEqual(a);
    expect(await s.describeImportImageTasks()).toHaveLength(1);
  });

  it('queues past the concurrency limit as pending, and cancels pending and active tasks', async () => {
    const conv = fakeConverter({ hold: true });
    const s = await service(conv);
    const one = (await s.importImage({ diskContainers: [{ format: 'raw', path: await rawFile('1.raw') }] }))
      .importTaskId;
    const two = (await s.importImage({ diskContainers: [{ format: 'raw', path: await rawFile('2.raw') }] }))
      .importTaskId;
    await until(async () =>
      (await s.describeImportImageTasks({ importTaskIds: [one] }))[0]!.statusMessage.startsWith('converting'),
    );
    const [a, b] = await s.describeImportImageTasks({ importTaskIds: [one, two] });
    expect(a).toMatchObject({ status: 'active', progress: expect.stringMatching(/^\d+$/) });
    expect(Number(a!.progress)).toBeGreaterThan(15);
    expect(b).toMatchObject({ status: 'active', statusMessage: 'pending', progress: '0' });
    expect(await s.cancelImportTask(two, 'not needed')).toMatchObject({
      status: 'cancelled',
      statusMessage: 'cancelled: not needed',
    });
    const scratch = join(dir, 'scratch', 'tasks', one);
    expect(existsSync(scratch)).toBe(true);
    expect(await s.cancelImportTask(one)).toMatchObject({ status: 'cancelled' });
    expect(existsSync(scratch)).toBe(false);
    expect(conv.calls[0]!.signal?.aborted).toBe(true);
    expect(conv.calls).toHaveLength(1);
  });

  it('a completed task cannot be cancelled', async () => {
    const s = await service(fakeConverter());
    const { importTaskId } = await s.importImage({
      diskContainers: [{ format: 'raw', path: await rawFile('c.raw') }],
    });
    await s.waitForTask(importTaskId);
    const error = await s.cancelImportTask(importTaskId).catch((e) => e);
    expect(VmkitError.is(error, 'CONFLICT')).toBe(true);
  });

  it('a hostile source fails the task naming the rule, before any conversion', async () => {
    const conv = fakeConverter();
    const s = await service(conv);
    const evil = join(dir, 'evil.raw');
    const h = qcow2Header(1 << 20);
    new DataView(h.buffer).setBigUint64(8, 0x200n);
    new DataView(h.buffer).setUint32(16, 11);
    h.set(Buffer.from('/etc/shadow'), 0x200);
    await writeFile(evil, h);
    const { importTaskId } = await s.importImage({ diskContainers: [{ format: 'raw', path: evil }] });
    const task = await s.waitForTask(importTaskId);
    expect(task.status).toBe('deleted');
    expect(task.statusMessage).toMatch(/^failed: .*rule qcow2-backing-file.*\/etc\/shadow/);
    expect(conv.calls).toHaveLength(0);
  });

  it('refuses a task larger than the scratch quota, and sources over maxImageBytes', async () => {
    const s = await service(fakeConverter(), {
      limits: { tasks: 1, scratchBytes: 1 << 20, maxImageBytes: 1 << 30 },
    });
    const { importTaskId } = await s.importImage({
      diskContainers: [{ format: 'raw', path: await rawFile('d.raw', 2 << 20) }],
    });
    expect((await s.waitForTask(importTaskId)).statusMessage).toMatch(
      /failed: limits.scratchBytes: .*more than the quota/,
    );
    const small = await service(fakeConverter(), {
      limits: { maxImageBytes: 1000 },
      scratchDir: join(dir, 's2'),
    });
    const t = await small.importImage({ diskContainers: [{ format: 'raw', path: await rawFile('e.raw') }] });
    expect((await small.waitForTask(t.importTaskId)).statusMessage).toMatch(
      /limits.maxImageBytes|virtual-size-limit/,
    );
  });

  it('validates arguments, naming the field', async () => {
    const s = await service(fakeConverter());
    const bad = (p: Promise<unknown>) => p.catch((e: VmkitError) => e.message);
    expect(await bad(s.importImage({ diskContainers: [] }))).toMatch(/^diskContainers: /);
    expect(await bad(s.importImage({ diskContainers: [{ format: 'exe', path: '/x' }] }))).toMatch(
      /^diskContainers\[0\]\.format: /,
    );
    expect(await bad(s.importImage({ diskContainers: [{ format: 'raw', url: 'ftp://x/y' }] }))).toMatch(
      /^diskContainers\[0\]\.url: /,
    );
    expect(
      await bad(s.exportImage({ imageId: 'nope', diskImageFormat: 'raw', destination: { path: '/tmp/x' } })),
    ).toMatch(/^imageId: /);
    await expect(createImportService({ limits: { tasks: 0 } })).rejects.toThrow(/limits.tasks/);
  });

  it('a restart marks tasks that were active as failed and removes their scratch', async () => {
    const store = memoryBlobStore();
    const conv = fakeConverter({ hold: true });
    const first = await service(conv, { store });
    const { importTaskId } = await first.importImage({
      diskContainers: [{ format: 'raw', path: await rawFile('f.raw') }],
    });
    await until(async () => conv.calls.length > 0);
    const scratch = join(dir, 'scratch', 'tasks', importTaskId);
    expect(existsSync(scratch)).toBe(true);
    // A second service on the same store and scratch, as after a crash of the first.
    const second = await createImportService({
      store,
      scratchDir: join(dir, 'scratch'),
      converter: fakeConverter(),
    });
    services.push(second);
    const [task] = await second.describeImportImageTasks();
    expect(task).toMatchObject({
      importTaskId,
      status: 'deleted',
      statusMessage: expect.stringMatching(
        /^failed: the import service stopped while the task was converting/,
      ),
    });
    expect(existsSync(scratch)).toBe(false);
  });
});

describe('task records read back from the store (untrusted)', () => {
  it('quarantines a record whose stored validate is not one vmkit writes, with a warning naming the field', async () => {
    const store = memoryBlobStore();
    const a = await service(fakeConverter(), { store });
    const { importTaskId } = await a.importImage({
      diskContainers: [{ format: 'raw', path: await rawFile('v.raw') }],
    });
    expect((await a.waitForTask(importTaskId)).status).toBe('completed');
    await a.close();
    const name = `tasks/${importTaskId}.json`;
    const record = JSON.parse(await (await store.getBlob('vmkit-import', name))!.text());
    await store.putBlob(
      'vmkit-import',
      name,
      JSON.stringify({ ...record, validate: { boot: true, until: { port: 0 } } }),
    );

    const warnings: Array<Record<string, unknown> | undefined> = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (_m: string, f?: Record<string, unknown>) => warnings.push(f),
    };
    const b = await service(fakeConverter(), { store, logger });
    expect(await b.describeImportImageTasks()).toEqual([]);
    expect(await store.blobExists('vmkit-import', name)).toBe(false);
    const [aside] = (await store.list('vmkit-import-quarantine')).items;
    expect((await store.getBlob('vmkit-import-quarantine', aside!.name))?.metadata).toMatchObject({
      'original-name': encodeURIComponent(name),
      reason: expect.stringMatching(/validate\.until must be/),
    });
    expect(warnings).toContainEqual(
      expect.objectContaining({
        blob: name,
        reason: expect.stringMatching(/: validate\.until must be 'agent'/),
      }),
    );
  });
});
