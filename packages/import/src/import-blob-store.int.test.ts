import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LibvirtTestCompute,
  libvirtTestCompute,
} from '../../provider-libvirt/test-support/libvirt-compute.js';
import { leftovers } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix } from '../../provider-libvirt/test-support/test-guest.js';
import { startTestS3Server, type TestS3Server } from '../../store-s3/src/testing/s3-test-server.js';
import { createTestBucket, openTestStore } from '../../store-s3/src/testing/test-store.js';
import { createImportService } from './import-service.js';

const exec = promisify(execFile);
const URI = 'qemu:///system';

describe("imports kept in the blob store (S3 test server): host B uses host A's import", () => {
  const prefix = runPrefix('ibs');
  let dir: string;
  let server: TestS3Server;
  let hostB: LibvirtTestCompute;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-import-blob-'));
    [server, hostB] = await Promise.all([startTestS3Server(), libvirtTestCompute(prefix, [])]);
  });
  afterAll(async () => {
    await hostB?.dispose();
    await server?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("A uploads the converted disk; B, with its own folders and pool, downloads, verifies and clones it after A's files are gone; a third exports it; a changed blob is refused", async () => {
    const bucket = await createTestBucket(server);
    const source = join(dir, 'source.raw');
    // 8 MiB with a pattern in each MiB, so a clone that is not this disk cannot compare equal.
    const bytes = new Uint8Array(8 << 20);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i >> 12) & 0xff;
    await writeFile(source, bytes);
    const imageId = `${prefix}img`;

    // B starts first: it learns of A's image from the store when asked for it.
    await using b = await createImportService({
      store: await openTestStore(server, { bucket }),
      scratchDir: join(dir, 'b', 'scratch'),
      compute: hostB.compute,
    });
    const a = await createImportService({
      store: await openTestStore(server, { bucket }),
      scratchDir: join(dir, 'a', 'scratch'),
    });
    const { importTaskId } = await a.importImage({
      diskContainers: [{ format: 'raw', path: source }],
      imageId,
      imageStore: 'blob',
    });
    expect((await a.waitForTask(importTaskId)).status).toBe('completed');
    const [made] = await a.listImages();
    expect(made!.blobs).toEqual([
      { name: `disks/${imageId}/disk0.qcow2`, sha256: made!.sha256, size: expect.any(Number) },
    ]);
    await a.close();
    await rm(join(dir, 'a'), { recursive: true, force: true });

    const used = await b.useImage(imageId);
    expect(used.path).toBe(join(dir, 'b', 'images', imageId, 'disk0.qcow2'));
    await exec('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', source, used.path]);
    expect((await hostB.compute.getImage(imageId))?.status).toBe('available');
    const template = await hostB.compute.templateBuilder().imageId(imageId).build();
    const [node] = await hostB.compute.createNodesInGroup('blob', 1, template);
    const { volumes } = await leftovers(URI, prefix, 'vmkit');
    const nodeDisk = volumes.find((v) => v.includes(node!.name) && v.endsWith('.qcow2'))!;
    const nodePath = (
      await exec('virsh', ['-c', URI, 'vol-path', '--pool', 'vmkit', nodeDisk])
    ).stdout.trim();
    // Through its backing chain, B's node holds exactly A's source disk.
    await exec('qemu-img', ['compare', '-U', '-f', 'raw', '-F', 'qcow2', source, nodePath]);
    await hostB.compute.destroyNode(node!.id);

    // A third host exports the image straight from the store (no useImage first).
    {
      await using c = await createImportService({
        store: await openTestStore(server, { bucket }),
        scratchDir: join(dir, 'c', 'scratch'),
      });
      const out = await c.exportImage({
        imageId,
        diskImageFormat: 'raw',
        destination: { path: join(dir, 'c.raw') },
      });
      expect((await c.waitForTask(out.exportImageTaskId)).status).toBe('completed');
      await exec('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', source, join(dir, 'c.raw')]);
    }

    // A blob changed behind the record is refused, and nothing partial stays in B's cache.
    await rm(used.path);
    const store = await openTestStore(server, { bucket });
    await store.putBlob(
      'vmkit-import',
      `disks/${imageId}/disk0.qcow2`,
      new Uint8Array(made!.blobs![0]!.size),
    );
    const error = await b.useImage(imageId).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'CORRUPT')).toBe(true);
    expect([(error as VmkitError).details.rule, (error as Error).message]).toEqual([
      'sha256',
      expect.stringMatching(new RegExp(`^image ${imageId}: blob disks/${imageId}/disk0.qcow2 has sha256 `)),
    ]);
    expect(await readdir(join(dir, 'b', 'images', imageId))).toEqual([]);

    await b.deleteImportedImage(imageId);
    expect(await store.blobExists('vmkit-import', `disks/${imageId}/disk0.qcow2`)).toBe(false);
  });
});
