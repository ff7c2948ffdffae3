import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { fileSystemBlobStore } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qemuImg } from '../test-support/import-fixtures.js';
import { createImportService, type ImportService } from './import-service.js';

// Import sources as a caller gives them: a relative path with a ':', a URL with credentials, a
// server sending more than limits.maxImageBytes without a Content-Length. Real qemu-img.
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
      if (req.url === '/huge.raw') {
        res.writeHead(200); // chunked, no Content-Length
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(64 * 1024, 1));
        return void res.end();
      }
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
      const { importTaskId } = await svc.importImage({ diskContainers: [{ format: 'vmdk', path: 'x:disk.vmdk' }] });
      const task = await svc.waitForTask(importTaskId);
      expect([task.status, task.statusMessage]).toEqual(['completed', 'completed']);
    } finally {
      process.chdir(savedCwd);
    }
  });

  it('stops a download over limits.maxImageBytes without Content-Length; no partial file stays', async () => {
    const { importTaskId } = await svc.importImage({ diskContainers: [{ format: 'raw', url: `${base}/huge.raw` }] });
    const task = await svc.waitForTask(importTaskId);
    expect(task.status).not.toBe('completed');
    expect(task.statusMessage).toMatch(/limits\.maxImageBytes/);
    const scratch = join(dir, 'scratch');
    const left = existsSync(scratch) ? await readdir(scratch, { recursive: true }) : [];
    expect(left.filter((f) => String(f).includes('source'))).toEqual([]);
  });

  it('keeps user:secret@ and query tokens out of the task and its error', async () => {
    const url = `${base.replace('//', '//user:secret@')}/disk.raw?token=secret`;
    const { importTaskId } = await svc.importImage({ diskContainers: [{ format: 'raw', url }] });
    const task = await svc.waitForTask(importTaskId);
    expect(task.status).not.toBe('completed');
    const described = await svc.describeImportImageTasks({ importTaskIds: [importTaskId] });
    const text = `${inspect(task, { depth: Infinity })}${JSON.stringify(described)}`;
    expect(text).toContain('127.0.0.1');
    expect(text).not.toContain('secret');
  });
});
