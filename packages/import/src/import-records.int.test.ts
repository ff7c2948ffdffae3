// Attacks on the import service through its records and working folders, as another user or
// another host with write access to the store would make them: plain file writes, then the public
// API. Each checks that what the attacker aimed at survives.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeConverter, qcow2Header } from './fake-converter.fixture.js';
import { createImportService, type ImportService } from './import-service.js';

const BASE_TMP = tmpdir();
const SAVED = { TMPDIR: process.env.TMPDIR, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
let dir: string;
const children: ChildProcess[] = [];
const services: ImportService[] = [];
const warnings: string[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn: (message, fields) => void warnings.push(`${message} ${JSON.stringify(fields)}`),
  error() {},
};

beforeEach(async () => {
  dir = await mkdtemp(join(BASE_TMP, 'vmkit-import-attack-'));
  // The default folders, old ($TMPDIR) and new (the user's cache), both inside the test's folder.
  process.env.TMPDIR = join(dir, 'tmp');
  process.env.XDG_CACHE_HOME = join(dir, 'cache');
  await mkdir(process.env.TMPDIR);
  warnings.length = 0;
});
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const [key, value] of Object.entries(SAVED))
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  await rm(dir, { recursive: true, force: true });
});

/** A record as an attacker writes it: any id, `active`, mid-conversion. */
function plantedRecord(id: string, extra: Record<string, unknown> = {}): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    id,
    kind: 'import-image',
    status: 'active',
    stage: 'converting',
    progress: 40,
    createdAt: now,
    updatedAt: now,
    disks: [{ format: 'raw', path: '/dev/null' }],
    snapshots: [],
    ...extra,
  });
}

/** Writes `json` as blob `tasks/<file>` of the `vmkit-import` container of a filesystem store at `root`. */
async function plant(root: string, file: string, json: string): Promise<void> {
  await mkdir(join(root, 'vmkit-import', 'tasks'), { recursive: true });
  await writeFile(join(root, 'vmkit-import', 'tasks', file), json);
}

/** A folder with a file in it, for a record to aim at. */
async function victim(path: string): Promise<string> {
  await mkdir(path, { recursive: true });
  await writeFile(join(path, 'precious.txt'), 'keep me');
  return path;
}

/** A live process whose command line names `path` (as a converter writing there would); it echoes its input. */
function processNaming(path: string): number {
  const child = spawn(
    process.execPath,
    ['-e', 'process.stdin.on("data", (d) => process.stdout.write(d))', join(path, 'disk0.qcow2')],
    { stdio: ['pipe', 'pipe', 'ignore'] },
  );
  child.stdin?.on('error', () => {}); // written to after a kill: the exit below answers
  children.push(child);
  return child.pid as number;
}

/**
 * Whether the process of `pid` still runs, asked of the process itself: it echoes a line sent now,
 * which a killed one never does (it exits instead), however loaded the machine or late the reaping.
 */
function answers(pid: number): Promise<boolean> {
  const child = children.find((c) => c.pid === pid);
  if (!child?.stdin || !child.stdout) throw new Error(`no test process ${pid}`);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(false);
  const { stdin, stdout } = child;
  return new Promise((resolve) => {
    child.once('exit', () => resolve(false));
    stdout.once('data', () => resolve(true));
    stdin.write('ping\n');
  });
}

async function start(options: Parameters<typeof createImportService>[0] = {}) {
  const s = await createImportService({ converter: fakeConverter(), logger, ...options });
  services.push(s);
  return s;
}

describe('planted import records', () => {
  it('in the default local records folder: a record id of ../../victim deletes nothing, kills nothing, is quarantined', async () => {
    await (await start()).close(); // the user's earlier run made the default folders
    // Wherever the default records folder is (old: $TMPDIR/vmkit-import; new: the user's cache).
    const roots = [join(dir, 'tmp', 'vmkit-import'), join(dir, 'cache', 'vmkit', 'import')];
    const victims: string[] = [];
    const pids: number[] = [];
    for (const root of roots) {
      // join(scratch, 'tasks', '../../victim') is the scratch folder's sibling `victim`.
      const target = await victim(join(root, 'victim'));
      victims.push(target);
      const pid = processNaming(target);
      pids.push(pid);
      await plant(
        join(root, 'records'),
        'import-ami-0123456789abcdef0.json',
        plantedRecord('../../victim', { converterPid: pid }),
      );
    }
    const started = start().catch((error: unknown) => error);
    await started;
    // Whatever start-up did, the victims come first.
    for (const target of victims) expect(existsSync(join(target, 'precious.txt'))).toBe(true);
    for (const pid of pids) expect(await answers(pid)).toBe(true);
    const s = (await started) as ImportService;
    expect(await s.describeImportImageTasks()).toEqual([]);
    expect(warnings.join('\n')).toMatch(/import task record quarantined.*id must be an id vmkit issues/);
    const records = join(dir, 'cache', 'vmkit', 'import', 'records');
    // The planted record left the tasks folder (the store drops a folder it emptied) for the
    // quarantine, which a wrong folder name could not pass: it must exist and hold it.
    expect(existsSync(join(records, 'vmkit-import', 'tasks', 'import-ami-0123456789abcdef0.json'))).toBe(
      false,
    );
    const quarantined = await readdir(join(records, 'vmkit-import-quarantine'));
    expect(quarantined).toHaveLength(1);
    expect(await readFile(join(records, 'vmkit-import-quarantine', quarantined[0]!), 'utf8')).toContain(
      '../../victim',
    );
  });

  it('in a shared store: a record id of ../../victim deletes nothing outside scratch and kills nothing', async () => {
    const shared = join(dir, 'shared');
    const scratchDir = join(dir, 'host', 'scratch');
    const target = await victim(join(dir, 'host', 'victim'));
    const pid = processNaming(target);
    await plant(
      shared,
      'import-ami-0123456789abcdef0.json',
      plantedRecord('../../victim', { converterPid: pid }),
    );
    const started = start({ store: fileSystemBlobStore({ root: shared }), scratchDir }).catch(
      (e: unknown) => e,
    );
    await started;
    expect(existsSync(join(target, 'precious.txt'))).toBe(true);
    expect(await answers(pid)).toBe(true);
    const s = (await started) as ImportService;
    expect(await s.describeImportImageTasks()).toEqual([]);
    expect(warnings.join('\n')).toMatch(/quarantined.*tasks\/import-ami-0123456789abcdef0.json.*id must be/);
  });

  it('a well-formed record claiming this host and boot (copied from its own records) with a pid naming its scratch: the process survives', async () => {
    const shared = join(dir, 'shared');
    const scratchDir = join(dir, 'host', 'scratch');
    const first = await start({ store: fileSystemBlobStore({ root: shared }), scratchDir });
    await writeFile(join(dir, 'd.raw'), new Uint8Array(1 << 16));
    const { importTaskId } = await first.importImage({
      diskContainers: [{ format: 'raw', path: join(dir, 'd.raw') }],
    });
    await first.waitForTask(importTaskId);
    await first.close();
    // The attacker reads this host's ids from its record in the store, and forges a task of it.
    const blob = await fileSystemBlobStore({ root: shared }).getBlob(
      'vmkit-import',
      `tasks/${importTaskId}.json`,
    );
    const mine = JSON.parse((await blob?.text()) ?? '{}');
    const id = 'import-ami-00000000000000bad';
    const pid = processNaming(join(scratchDir, 'tasks', id));
    await plant(
      shared,
      `${id}.json`,
      plantedRecord(id, {
        converterPid: pid,
        hostId: mine.hostId,
        bootId: mine.bootId,
        servicePid: 999_999_999,
      }),
    );
    await start({ store: fileSystemBlobStore({ root: shared }), scratchDir });
    expect(await answers(pid)).toBe(true);
    expect(warnings.join('\n')).toMatch(/converter of a dead import task not killed.*does not name that pid/);
  });

  it("another host's running task is left active, its record untouched", async () => {
    const shared = join(dir, 'shared');
    const id = 'import-ami-0123456789abcdef0';
    const json = plantedRecord(id, {
      hostId: 'build-7:00112233aabbccdd',
      bootId: '3f1c1b9e-0000-4000-8000-000000000001',
      servicePid: 4321,
      converterPid: 4322,
    });
    await plant(shared, `${id}.json`, json);
    const s = await start({ store: fileSystemBlobStore({ root: shared }), scratchDir: join(dir, 'scratch') });
    const [task] = await s.describeImportImageTasks({ importTaskIds: [id] });
    expect(task).toMatchObject({ status: 'active', statusMessage: 'converting' });
    await s.close();
    expect(await readFile(join(shared, 'vmkit-import', 'tasks', `${id}.json`), 'utf8')).toBe(json);
  });
});

describe('planted image records', () => {
  it('an image whose disk is a file outside the image folder is not listed, and not exported', async () => {
    const shared = join(dir, 'shared');
    const secret = join(dir, 'secret.qcow2');
    await writeFile(secret, qcow2Header(1 << 20));
    await mkdir(join(shared, 'vmkit-import', 'images'), { recursive: true });
    const image = {
      imageId: 'ami-evil',
      path: secret,
      format: 'qcow2',
      virtualSize: 1 << 20,
      sha256: '0'.repeat(64),
    };
    await writeFile(
      join(shared, 'vmkit-import', 'images', 'ami-evil.json'),
      JSON.stringify({
        ...image,
        os: { family: 'linux', version: '1', arch: 'x86_64' },
        importTaskId: 'x',
        extraDisks: [],
      }),
    );
    const s = await start({ store: fileSystemBlobStore({ root: shared }), scratchDir: join(dir, 'scratch') });
    expect(await s.listImages()).toEqual([]);
    const out = join(dir, 'stolen.raw');
    const started = s.exportImage({
      imageId: 'ami-evil',
      diskImageFormat: 'raw',
      destination: { path: out },
    });
    await expect(started.then((t) => s.waitForTask(t.exportImageTaskId))).rejects.toThrow(
      /^imageId: no image ami-evil/,
    );
    expect(existsSync(out)).toBe(false);
    expect(warnings.join('\n')).toMatch(/image record ignored.*path must be/);
  });
});

describe('default working folders made by someone else are refused', () => {
  const cacheVmkit = () => join(dir, 'cache', 'vmkit');

  it('a world-writable folder (0777)', async () => {
    await mkdir(cacheVmkit(), { recursive: true });
    await chmod(cacheVmkit(), 0o777);
    await expect(start()).rejects.toThrow(
      /^scratchDir: the working folder .*\/cache\/vmkit has mode 0777: group or others may use it; .*remove it/,
    );
  });

  it('a symbolic link to elsewhere', async () => {
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere, { mode: 0o700 });
    await mkdir(dirname(cacheVmkit()), { recursive: true });
    await symlink(elsewhere, cacheVmkit());
    await expect(start()).rejects.toThrow(
      /^scratchDir: the working folder .*\/cache\/vmkit is a symbolic link/,
    );
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('a folder owned by another user (nobody)', async () => {
    await mkdir(join(cacheVmkit(), 'import', 'records'), { recursive: true, mode: 0o700 });
    await chown(join(cacheVmkit(), 'import', 'records'), 65534, 65534);
    await expect(start()).rejects.toThrow(
      /^store: the working folder .*\/import\/records is owned by uid 65534/,
    );
  });

  it('made by vmkit itself: private (0700) and reused', async () => {
    await (await start()).close();
    await start();
    expect(existsSync(join(cacheVmkit(), 'import', 'scratch'))).toBe(true);
  });
});
