import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService } from '@vmkit/core';
import { memoryBlobStore } from '@vmkit/core/blobstore';
import { VmkitError } from '@vmkit/core/spi';
import { memoryProvider } from '@vmkit/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeConverter } from './fake-converter.fixture.js';
import { createImportService, type ImportService } from './import-service.js';
import type { ImageRegistry } from './import-service-options.js';

let dir: string;
let compute: ComputeService;
const closing: Array<{ close(): Promise<void> }> = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-boot-check-'));
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

/** The memory compute service with a serial console that says `console` once a node exists. */
function withConsole(console: () => string): ImageRegistry {
  return {
    ensureImage: (spec, o) => compute.ensureImage(spec, o),
    getImage: (id) => compute.getImage(id),
    deleteImage: (id, o) => compute.deleteImage(id, o),
    templateBuilder: () => compute.templateBuilder(),
    createNodesInGroup: (g, n, t, o) => compute.createNodesInGroup(g, n, t, o),
    waitForNode: (id, o) => compute.waitForNode(id, o),
    destroyNode: (id) => compute.destroyNode(id),
    readNodeConsole: async () => console(),
  };
}

async function service(registry: ImageRegistry | undefined): Promise<ImportService> {
  const s = await createImportService({
    store: memoryBlobStore(),
    scratchDir: join(dir, 'scratch'),
    converter: fakeConverter(),
    ...(registry ? { compute: registry } : {}),
  });
  closing.push(s);
  return s;
}

async function rawDisk(): Promise<string> {
  const path = join(dir, 'disk.raw');
  await writeFile(path, new Uint8Array(1 << 20).fill(3));
  return path;
}

describe('boot checks (memory provider)', () => {
  it("'console-login' passes once a line ends in login:, and fails quoting the console's last lines when none does; the node goes either way", async () => {
    const s = await service(withConsole(() => 'Debian GNU/Linux 12 box ttyS0\r\n\r\nbox login: '));
    const path = await rawDisk();
    const ok = await s.importImage({
      diskContainers: [{ format: 'raw', path }],
      imageId: 'talks',
      validate: { boot: true, until: 'console-login', timeoutMs: 5_000 },
    });
    expect((await s.waitForTask(ok.importTaskId)).statusMessage).toMatch(
      /^completed: boot check passed: console-login in /,
    );
    expect(await compute.listNodes()).toEqual([]);

    const mute = await service(withConsole(() => `\u001b[0m${'kernel panic\n'.repeat(30)}last words\n`));
    const bad = await mute.importImage({
      diskContainers: [{ format: 'raw', path }],
      imageId: 'mute',
      validate: { boot: true, until: 'console-login', timeoutMs: 1_500 },
    });
    const failed = await mute.waitForTask(bad.importTaskId);
    expect(failed.status).toBe('deleted');
    expect(failed.failureReason).toBe(
      "validate.boot: a node of image mute did not answer (console-login) within 1500 ms (no login: prompt on the console); the console's last lines:\n" +
        `${'kernel panic\n'.repeat(19)}last words`,
    );
    expect(await compute.getImage('mute')).toBeUndefined();
    expect(await mute.listImages()).toEqual([]);
    expect(await compute.listNodes()).toEqual([]);
  });

  it('a cancelled boot check destroys its node and the image', async () => {
    let seen: (() => void) | undefined;
    const reading = new Promise<void>((r) => {
      seen = r;
    });
    const s = await service(
      withConsole(() => {
        seen?.();
        return '';
      }),
    );
    const { importTaskId } = await s.importImage({
      diskContainers: [{ format: 'raw', path: await rawDisk() }],
      imageId: 'cancelled',
      validate: { boot: true, until: 'console-login', timeoutMs: 60_000 },
    });
    await reading;
    expect(await compute.listNodes()).toHaveLength(1);
    expect((await s.cancelImportTask(importTaskId)).status).toBe('cancelled');
    expect(await compute.listNodes()).toEqual([]);
    expect(await compute.getImage('cancelled')).toBeUndefined();
  });

  it('refuses a bad validate, naming the field, and a boot check without a compute service', async () => {
    const s = await service(withConsole(() => ''));
    const path = await rawDisk();
    for (const [validate, field] of [
      [{ boot: false, until: 'ssh' }, 'validate.boot'],
      [{ boot: true, until: 'telnet' }, 'validate.until'],
      [{ boot: true, until: { port: 0 } }, 'validate.until'],
      [{ boot: true, until: { http: 'index.html' } }, 'validate.until'],
      [{ boot: true, until: 'ssh', timeoutMs: -1 }, 'validate.timeoutMs'],
    ] as const) {
      const error = await s
        .importImage({ diskContainers: [{ format: 'raw', path }], validate: validate as never })
        .catch((e: unknown) => e);
      expect([VmkitError.is(error, 'INVALID_ARGUMENT'), (error as VmkitError).details.field]).toEqual([
        true,
        field,
      ]);
    }
    const bare = await service(undefined);
    const error = await bare
      .importImage({ diskContainers: [{ format: 'raw', path }], validate: { boot: true, until: 'ssh' } })
      .catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toMatch(/^validate: a boot check needs a compute service/);
  });
});
