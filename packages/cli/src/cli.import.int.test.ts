import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCliProcess, spawnCli } from '../test-support/spawn-cli.js';

// The real binary with @vmkit/import and qemu-img: a raw image made by qemu-img is imported and
// exported back to raw, compared by `qemu-img compare`. No compute registration (no --os), so
// libvirt is not involved.

const exec = promisify(execFile);
let dir: string;
let source: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-import-'));
  source = join(dir, 'disk.img');
  await exec('qemu-img', ['create', '-q', '-f', 'raw', source, '16M']);
  const handle = await open(source, 'r+');
  await handle.write(randomBytes(1024 * 1024), 0, 1024 * 1024, 3 * 1024 * 1024);
  await handle.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Bytes of the files under `folder` (which must exist). */
async function scratchBytes(folder: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function gone(path: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (
    await access(path).then(
      () => true,
      () => false,
    )
  ) {
    if (Date.now() > end) throw new Error(`${path} still there after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('vmkit import and export', () => {
  it('imports a raw image with --wait and exports it to raw with the same bytes', async () => {
    const run = await runCliProcess(
      ['--store', 'st', 'import', source, '--image-id', 'disk1', '--wait', '--json'],
      dir,
    );
    expect(run.code).toBe(0);
    const task = JSON.parse(run.stdout) as {
      status: string;
      imageId: string;
      snapshotDetails: Array<{ outputPath: string }>;
    };
    expect(task).toMatchObject({ status: 'completed', imageId: 'disk1' });
    expect(task.snapshotDetails[0]?.outputPath).toBe(join(dir, 'st/.import/images/disk1/disk0.qcow2'));
    expect(run.stderr).toMatch(/import-ami-\w+: 100% completed/);
    const back = join(dir, 'back.img');
    const exported = await runCliProcess(
      ['--store', 'st', 'export', 'disk1', '--format', 'raw', '-o', back],
      dir,
    );
    expect(exported).toMatchObject({ code: 0, stdout: `wrote ${back} (raw, image disk1)\n` });
    await exec('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', source, back]);
  });

  it('without --wait prints the task id and finishes the import in the background', async () => {
    const run = await runCliProcess(['--store', 'st', 'import', source, '--image-id', 'disk2'], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^import-ami-[0-9a-f]+\n$/);
    const log = /log: (\S+)/.exec(run.stderr)?.[1] as string;
    await gone(join(dir, 'st/.import/lock'));
    expect(await readFile(log, 'utf8')).toMatch(/"status": "completed"/);
    const back = join(dir, 'back2.qcow2');
    expect(
      (await runCliProcess(['--store', 'st', 'export', 'disk2', '-f', 'qcow2', '-o', back], dir)).code,
    ).toBe(0);
    await exec('qemu-img', ['compare', '-F', 'raw', back, source]);
  });

  it('exits by the outcome: a disk breaking a rule (2), an image not imported (3), a busy store (4)', async () => {
    const base = join(dir, 'base.qcow2');
    await exec('qemu-img', ['create', '-q', '-f', 'qcow2', base, '8M']);
    await exec('qemu-img', [
      'create',
      '-q',
      '-f',
      'qcow2',
      '-b',
      base,
      '-F',
      'qcow2',
      join(dir, 'child.qcow2'),
    ]);
    const hostile = await runCliProcess(['--store', 'st', 'import', 'child.qcow2', '--wait'], dir);
    expect(hostile.code).toBe(2);
    expect(hostile.stderr).toMatch(/^vmkit: task failed: .*rule qcow2-backing-file/m);
    const unknown = await runCliProcess(['--store', 'st', 'export', 'nope', '-f', 'raw', '-o', 'x.img'], dir);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/was not made by vmkit import: export works on imported images only/);
    await mkdir(join(dir, 'busy/.import'), { recursive: true });
    await writeFile(join(dir, 'busy/.import/lock'), `${process.pid}\n`);
    const busy = await runCliProcess(['--store', 'busy', 'import', source, '--wait'], dir);
    expect(busy.code).toBe(4);
    expect(busy.stderr).toContain(
      `another vmkit import or export (pid ${process.pid}) is running on this store`,
    );
  });

  it('Ctrl-C during --wait cancels the task: exit 130, no scratch, no image, the record cancelled', async () => {
    // A download that never ends: 64 MiB announced, 64 KiB sent.
    let requested!: () => void;
    const started = new Promise<void>((resolve) => (requested = resolve));
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-length': String(64 * 1024 * 1024) });
      if (req.method === 'HEAD')
        res.end(); // the size check passes; the GET then stalls
      else res.write(Buffer.alloc(64 * 1024), () => requested());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow.img`;
      const child = spawnCli(['--store', 'cancel', 'import', url, '--image-id', 'slow', '--wait'], dir);
      await started;
      // Interrupted once the download's bytes are in the task's scratch (observed), so the
      // clean-up checked below has something to remove.
      const home = join(dir, 'cancel/.import');
      await vi.waitFor(async () => expect(await scratchBytes(join(home, 'scratch'))).toBeGreaterThan(0), {
        timeout: 30_000,
        interval: 50,
      });
      child.child.kill('SIGINT');
      const done = await child.done;
      expect(done.code).toBe(130);
      expect(done.stderr).toMatch(/^vmkit: .*cancelled/m);
      // The task's scratch folder (with the bytes downloaded) is gone; the tasks folder stays.
      expect(await readdir(join(home, 'scratch', 'tasks'))).toEqual([]);
      expect(await readdir(join(home, 'images'))).toEqual([]);
      expect(await readdir(home)).not.toContain('lock');
      const [record] = await readdir(join(dir, 'cancel/vmkit-import/tasks'));
      const task = await readFile(join(dir, 'cancel/vmkit-import/tasks', record as string), 'utf8');
      expect(task).toMatch(/"status":\s*"cancelled"/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
