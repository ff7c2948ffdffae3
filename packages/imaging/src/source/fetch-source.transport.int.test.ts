import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchSourceFile } from './fetch-source.js';
import { fetchMasterDisk } from './master-disk.js';

// Master sources as a spec writer gives them: a relative path, a URL with a limit, a URL with
// credentials. Real qemu-img, real files, a loopback HTTP server.
describe('master sources: paths reach qemu-img resolved, downloads follow the rules', () => {
  const root = mkdtempSync(join(tmpdir(), 'vmkit-lf-rules-'));
  const downloads = join(root, 'tmp');
  let server: Server;
  let base = '';
  const savedTmp = process.env.TMPDIR;
  const savedCwd = process.cwd();

  beforeAll(async () => {
    execFileSync('mkdir', ['-p', downloads]);
    process.env.TMPDIR = downloads;
    server = createServer((req, res) => {
      if (req.url === '/huge') {
        // No Content-Length: chunked, 4 MiB in all.
        res.writeHead(200);
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(64 * 1024, 1));
        return void res.end();
      }
      res.writeHead(503);
      res.end('down');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server?.close();
    process.chdir(savedCwd);
    process.env.TMPDIR = savedTmp;
    rmSync(root, { recursive: true, force: true });
  });

  it("gives qemu-img an absolute path for a relative 'x:disk.vmdk' (not protocol 'x')", async () => {
    const work = join(root, 'work');
    execFileSync('mkdir', ['-p', work]);
    execFileSync('qemu-img', ['create', '-q', '-f', 'vmdk', join(work, 'x:disk.vmdk'), '16M']);
    process.chdir(work);
    try {
      const local = await fetchSourceFile({ path: 'x:disk.vmdk' });
      expect(local.path).toBe(join(work, 'x:disk.vmdk'));
      const disk = await fetchMasterDisk(
        { path: 'x:disk.vmdk' },
        { native: ['qcow2', 'raw'], convertTo: 'qcow2' },
      );
      expect(disk).toMatchObject({ format: 'qcow2', virtualSize: 16 << 20 });
      await disk.dispose();
    } finally {
      process.chdir(savedCwd);
    }
  });

  it('stops a download without Content-Length at source.maxBytes and leaves no partial file', async () => {
    const error = await fetchSourceFile({ url: `${base}/huge`, maxBytes: 1024 * 1024 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^source\.url: .*more than source\.maxBytes \(1048576 bytes\)/),
    });
    expect(readdirSync(downloads)).toEqual([]);
  });

  it('keeps user:secret@ out of the error of a failed download, at any depth', async () => {
    for (const url of [`${base.replace('//', '//user:secret@')}/gone`, 'http://user:secret@127.0.0.1:1/x']) {
      const error = await fetchSourceFile({ url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      const text = `${inspect(error, { depth: Infinity })}${JSON.stringify(error)}${String(error)}`;
      expect(text).not.toContain('secret');
      expect(text).toContain('127.0.0.1');
    }
    expect(readdirSync(downloads)).toEqual([]);
  });
});
