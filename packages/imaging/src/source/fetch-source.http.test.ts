import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchSourceFile } from './fetch-source.js';

const MiB = 1024 * 1024;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('fetchSourceFile over http', () => {
  it('streams the body to a temporary file as it arrives, and cleanup removes it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vmkit-lf-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = root;
    let seenWhileSending = 0;
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(2 * MiB, 1));
      // Before sending the rest, see how much of the first part reached the disk.
      const started = Date.now();
      const poll = setInterval(() => {
        const dirs = readdirSync(root);
        const file = dirs.length ? join(root, dirs[0] as string, 'download') : undefined;
        const size = file && existsSync(file) ? statSync(file).size : 0;
        if (size >= 2 * MiB || Date.now() - started > 3000) {
          clearInterval(poll);
          seenWhileSending = size;
          res.end(Buffer.alloc(MiB, 2));
        }
      }, 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      server.close();
      process.env.TMPDIR = saved;
      rmSync(root, { recursive: true, force: true });
    });
    const { port } = server.address() as AddressInfo;
    const local = await fetchSourceFile({ url: `http://127.0.0.1:${port}/disk.img` });
    expect(seenWhileSending).toBe(2 * MiB);
    const bytes = readFileSync(local.path);
    expect(bytes.length).toBe(3 * MiB);
    expect(bytes[3 * MiB - 1]).toBe(2);
    await local.dispose();
    expect(readdirSync(root)).toEqual([]);
  });
});
