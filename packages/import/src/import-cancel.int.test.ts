import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { qemuImgConverter } from '@vmkit/imaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesNaming, randomFile } from '../test-support/import-fixtures.js';
import { createImportService } from './import-service.js';

/** Converts at 16 MiB/s, so a 48 MiB disk takes about 3 s: long enough to act mid-conversion. */
const SLOW = 16 * 1024 * 1024;
/**
 * Converts at 1 MiB/s, so a 48 MiB disk would take 48 s: a cancel that returns within
 * {@link CANCEL_BOUND_MS} ended qemu-img rather than waiting for it, however loaded the machine.
 * How fast a cancel is belongs to `npm run bench` (import: cancelling a conversion).
 */
const CRAWL = 1024 * 1024;
const CANCEL_BOUND_MS = 15_000;

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const got = await check();
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('cancelling and crashing mid-conversion (qemu-img)', () => {
  let dir: string;
  const at = (n: string) => join(dir, n);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-import-cancel-'));
    await randomFile(at('big.raw'), 48);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('cancel ends qemu-img (long before it would finish), removes scratch, state cancelled', async () => {
    const svc = await createImportService({
      store: fileSystemBlobStore({ root: at('store1'), durable: false }),
      scratchDir: at('scratch1'),
      converter: qemuImgConverter({ rateLimitBytesPerSecond: CRAWL }),
    });
    try {
      const { conversionTaskId } = await svc.importVolume({ image: { format: 'raw', path: at('big.raw') } });
      expect(conversionTaskId).toMatch(/^import-vol-/);
      const scratch = at(`scratch1/tasks/${conversionTaskId}`);
      await waitFor('converting', async () => {
        const [t] = await svc.describeConversionTasks({ conversionTaskIds: [conversionTaskId] });
        return t!.statusMessage.startsWith('converting') && (await processesNaming(scratch)).length > 0
          ? t
          : undefined;
      });
      const started = Date.now();
      const task = await svc.cancelConversionTask(conversionTaskId, 'changed my mind');
      expect(Date.now() - started).toBeLessThan(CANCEL_BOUND_MS);
      expect(task).toMatchObject({ status: 'cancelled', statusMessage: 'cancelled: changed my mind' });
      expect(await processesNaming(scratch)).toEqual([]);
      expect(existsSync(scratch)).toBe(false);
      expect(await readdir(at('images'))).toEqual([]);
    } finally {
      await svc.close();
    }
  });

  it('kill -9 of the process during a conversion: on restart the task is failed, scratch and qemu-img gone', async () => {
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const core = fileURLToPath(new URL('../../core/dist/blobstore/index.js', import.meta.url));
    const imaging = fileURLToPath(new URL('../../imaging/dist/index.js', import.meta.url));
    const script = at('child.mjs');
    await writeFile(
      script,
      `import { createImportService } from ${JSON.stringify(entry)};
import { qemuImgConverter } from ${JSON.stringify(imaging)};
import { fileSystemBlobStore } from ${JSON.stringify(core)};
const svc = await createImportService({ store: fileSystemBlobStore({ root: ${JSON.stringify(at('store2'))} }),
  scratchDir: ${JSON.stringify(at('scratch2'))}, converter: qemuImgConverter({ rateLimitBytesPerSecond: ${SLOW} }) });
const { importTaskId } = await svc.importImage({ diskContainers: [{ format: 'raw', path: ${JSON.stringify(at('big.raw'))} }] });
console.log(importTaskId);
setInterval(() => {}, 1000);
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const taskId = await waitFor('the task id', async () => (/import-ami-\w+/.exec(out) ?? [])[0]);
    const scratch = at(`scratch2/tasks/${taskId}`);
    const reader = fileSystemBlobStore({ root: at('store2') });
    try {
      await waitFor('converting, persisted', async () => {
        const blob = await reader.getBlob('vmkit-import', `tasks/${taskId}.json`);
        const r = blob ? JSON.parse(await blob.text()) : {};
        return r.stage === 'converting' && r.converterPid ? r : undefined;
      });
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(scratch)).toBe(true);
    expect((await processesNaming(scratch)).length).toBe(1);

    const svc = await createImportService({
      store: fileSystemBlobStore({ root: at('store2'), durable: false }),
      scratchDir: at('scratch2'),
    });
    try {
      const [task] = await svc.describeImportImageTasks({ importTaskIds: [taskId] });
      expect(task).toMatchObject({
        status: 'deleted',
        statusMessage: expect.stringMatching(
          /^failed: the import service stopped while the task was converting/,
        ),
      });
      expect(existsSync(scratch)).toBe(false);
      await waitFor(
        'the orphaned qemu-img to end',
        async () => ((await processesNaming(scratch)).length === 0 ? true : undefined),
        2000,
      );
    } finally {
      await svc.close();
    }
  });
});
