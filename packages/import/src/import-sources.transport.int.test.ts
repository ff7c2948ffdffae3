import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qemuImg } from '../test-support/import-fixtures.js';
import { createImportService, type ImportService } from './import-service.js';

// Import sources as a caller gives them: a relative path with a ':', a URL with credentials, a
// chain of redirects. Real qemu-img.
describe('import sources: resolved paths, bounded downloads, no credentials in task errors', () => {
  let dir: string;
  let svc: ImportService;
  let server: Server;
  let base: string;
  const savedCwd = process.cwd();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-import-rules-'));
    svc = await createImportService({
      store: fileSystemBlobStore({ root: join(dir, 'store'), durable: false }),
      scratchDir: join(dir, 'scratch'),
      limits: { tasks: 1, maxImageBytes: 2 * 1024 * 1024 },
    });
    server = createServer((req, res) => {
      const hop = /^\/hop\/(\d+)$/.exec(req.url ?? '');
      if (hop) {
        const n = Number(hop[1]);
        res.writeHead(302, { location: n < 8 ? `/hop/${n + 1}` : '/disk.raw' });
        return void res.end();
      }
      if (req.url === '/disk.raw') return void res.end(Buffer.alloc(1024 * 1024));
      res.writeHead(500);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    process.chdir(savedCwd);
    await svc?.close();
    server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("imports a relative 'x:disk.vmdk': qemu-img gets the absolute path, not protocol 'x'", async () => {
    await qemuImg('create', '-q', '-f', 'vmdk', join(dir, 'x:disk.vmdk'), '1M');
    process.chdir(dir);
    try {
      const { importTaskId } = await svc.importImage({
        diskContainers: [{ format: 'vmdk', path: 'x:disk.vmdk' }],
      });
      const task = await svc.waitForTask(importTaskId);
      expect([task.status, task.statusMessage]).toEqual(['completed', 'completed']);
    } finally {
      process.chdir(savedCwd);
    }
  });

  it('follows at most 5 redirects (fetch alone follows 20)', async () => {
    const { importTaskId } = await svc.importImage({
      diskContainers: [{ format: 'raw', url: `${base}/hop/0` }],
    });
    const task = await svc.waitForTask(importTaskId);
    expect(task.status).not.toBe('completed');
    expect(task.statusMessage).toMatch(/more than 5 redirects/);
  });

  it('keeps user:secret@ and query tokens out of the task and its error', async () => {
    const url = `${base.replace('//', '//user:secret@')}/broken?token=secret`;
    const { importTaskId } = await svc.importImage({ diskContainers: [{ format: 'raw', url }] });
    const task = await svc.waitForTask(importTaskId);
    expect(task.status).not.toBe('completed');
    const described = await svc.describeImportImageTasks({ importTaskIds: [importTaskId] });
    const text = `${inspect(task, { depth: Infinity })}${JSON.stringify(described)}`;
    expect(text).toContain('127.0.0.1');
    expect(text).not.toContain('secret');
  });
});
