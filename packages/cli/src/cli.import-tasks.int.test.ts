import { execFile } from 'node:child_process';
import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCliProcess } from '../test-support/spawn-cli.js';

// The real binary: an import left running in the background (a download that never ends) is
// seen by `vmkit import status` while it runs, and `vmkit import cancel` ends it.

const exec = promisify(execFile);
let dir: string;
let server: Server;
let url: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-import-tasks-'));
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-length': String(64 * 1024 * 1024) });
    if (req.method === 'HEAD') res.end();
    else res.write(Buffer.alloc(64 * 1024)); // then nothing: the download stalls
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow.img`;
});
afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('vmkit import status and vmkit import cancel', () => {
  it('status shows a background import downloading; cancel ends it: cancelled, its process gone, scratch empty', async () => {
    const started = await runCliProcess(
      ['--store', 'st', 'import', url, '--format', 'raw', '--image-id', 'slow'],
      dir,
    );
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^import-ami-[0-9a-f]{17}$/);
    const home = join(dir, 'st/.import');
    await vi.waitFor(
      async () => {
        const status = await runCliProcess(['--store', 'st', 'import', 'status', id, '--json'], dir);
        expect(JSON.parse(status.stdout)).toMatchObject({
          importTaskId: id,
          status: 'active',
          statusMessage: expect.stringMatching(/^downloading/),
        });
      },
      { timeout: 30_000, interval: 200 },
    );
    const all = await runCliProcess(['--store', 'st', 'import', 'status'], dir);
    expect(all.stdout).toMatch(new RegExp(`^${id}  active  \\d+%  downloading`, 'm'));
    expect(await exists(join(home, 'lock'))).toBe(true);

    const cancelled = await runCliProcess(['--store', 'st', 'import', 'cancel', id, '--json'], dir);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ importTaskId: id, status: 'cancelled' });
    expect(await exists(join(home, 'lock'))).toBe(false);
    expect(await readdir(join(home, 'scratch', 'tasks'))).toEqual([]);
    expect((await readdir(home)).filter((n) => n.startsWith('view-'))).toEqual([]);
    expect(await exists(join(home, 'images', 'slow'))).toBe(false);

    const again = await runCliProcess(['--store', 'st', 'import', 'cancel', id], dir);
    expect(again).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^${id}  cancelled`)) });
    const unknown = await runCliProcess(
      ['--store', 'st', 'import', 'status', 'import-ami-00000000000000000'],
      dir,
    );
    expect(unknown.code).toBe(3);
  });

  it('a completed task cannot be cancelled (exit 4)', async () => {
    await exec('qemu-img', ['create', '-q', '-f', 'raw', join(dir, 'small.img'), '4M']);
    const done = await runCliProcess(['--store', 'st2', 'import', 'small.img', '--wait', '--json'], dir);
    expect(done.code, done.stderr).toBe(0);
    const id = (JSON.parse(done.stdout) as { importTaskId: string }).importTaskId;
    const refused = await runCliProcess(['--store', 'st2', 'import', 'cancel', id], dir);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/is completed and cannot be cancelled/);
  });
});
