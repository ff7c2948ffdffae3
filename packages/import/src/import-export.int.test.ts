import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { inspectImage } from '@vmkit/imaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ovf, packOva, qemuImg, qemuInfo, randomFile } from '../test-support/import-fixtures.js';
import { createImportService, type ImportService } from './import-service.js';

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('import and export with qemu-img', () => {
  let dir: string;
  let svc: ImportService;
  let server: Server;
  let base: string;
  const at = (n: string) => join(dir, n);
  const store = () => fileSystemBlobStore({ root: at('store'), durable: false });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-import-int-'));
    await randomFile(at('orig.raw'), 24);
    // Zeros in the middle: sparse formats must still give the same bytes back.
    await qemuImg('convert', '-f', 'raw', '-O', 'raw', at('orig.raw'), at('orig2.raw'));
    svc = await createImportService({ store: store(), scratchDir: at('scratch'), limits: { tasks: 2 } });
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/octet-stream');
      createReadStream(at(req.url!.slice(1)))
        .on('error', () => res.writeHead(404).end())
        .pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await svc?.close();
    server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function importAndWait(container: Parameters<ImportService['importImage']>[0]['diskContainers'][0]) {
    const { importTaskId } = await svc.importImage({ diskContainers: [container] });
    const task = await svc.waitForTask(importTaskId);
    expect([task.status, task.statusMessage, task.progress]).toEqual(['completed', 'completed', '100']);
    return (await svc.describeImportImageTasks({ importTaskIds: [importTaskId] }))[0]!;
  }

  async function exportAndWait(
    imageId: string,
    diskImageFormat: 'vmdk' | 'vhd' | 'raw' | 'qcow2',
    path: string,
  ) {
    const { exportImageTaskId } = await svc.exportImage({ imageId, diskImageFormat, destination: { path } });
    expect(await svc.waitForTask(exportImageTaskId)).toMatchObject({ status: 'completed' });
    return (await svc.describeExportImageTasks({ exportImageTaskIds: [exportImageTaskId] }))[0]!;
  }

  it('import raw, export to vmdk, vhd, qcow2 and raw; import those back; raw equals the original', async () => {
    const task = await importAndWait({ format: 'raw', path: at('orig.raw') });
    expect(task.snapshotDetails[0]!.sha256).toBe(await sha256(at('orig.raw')));
    const image = task.imageId!;
    const vmdk = await exportAndWait(image, 'vmdk', at('out.vmdk'));
    expect((await inspectImage(at('out.vmdk'))).details.createType).toBe('streamOptimized');
    expect(vmdk.sha256).toBe(await sha256(at('out.vmdk')));
    await exportAndWait(image, 'vhd', at('out.vhd'));
    expect(await qemuInfo(at('out.vhd'))).toMatchObject({ format: 'vpc', 'virtual-size': 24 << 20 });
    await exportAndWait(image, 'qcow2', at('out.qcow2'));
    expect(await qemuInfo(at('out.qcow2'))).toMatchObject({ format: 'qcow2', 'virtual-size': 24 << 20 });
    await exportAndWait(image, 'raw', at('out.raw'));
    // Every export holds the original's bytes, as qemu-img (the independent reader) reads them.
    for (const [file, driver] of [
      ['out.raw', 'raw'],
      ['out.qcow2', 'qcow2'],
      ['out.vmdk', 'vmdk'],
      ['out.vhd', 'vpc'],
    ] as const)
      await qemuImg('compare', '-f', 'raw', '-F', driver, at('orig.raw'), at(file));
    for (const [file, format] of [
      ['out.vmdk', 'vmdk'],
      ['out.vhd', 'vhd'],
    ] as const) {
      const back = await importAndWait({ format, path: at(file) });
      const raw = at(`back-${format}.raw`);
      await exportAndWait(back.imageId!, 'raw', raw);
      await qemuImg('compare', '-f', 'raw', '-F', 'raw', at('orig.raw'), raw);
    }
  });

  it('exports to a blob of the store, its sha256 in the metadata', async () => {
    const image = (await svc.listImages())[0]!.imageId;
    const { exportImageTaskId } = await svc.exportImage({
      imageId: image,
      diskImageFormat: 'vhd',
      destination: { container: 'exports', name: 'disk.vhd' },
    });
    const task = await svc.waitForTask(exportImageTaskId);
    expect(task).toMatchObject({ status: 'completed', destination: 'blob:exports/disk.vhd' });
    const blob = await store().getBlob('exports', 'disk.vhd');
    const bytes = await blob!.bytes();
    expect(createHash('sha256').update(bytes).digest('hex')).toBe((task as { sha256?: string }).sha256);
    expect(blob!.metadata.sha256).toBe((task as { sha256?: string }).sha256);
    await writeFile(at('from-blob.vhd'), bytes);
    expect(await qemuInfo(at('from-blob.vhd'))).toMatchObject({ format: 'vpc', 'virtual-size': 24 << 20 });
  });

  it('an existing export destination is refused', async () => {
    const image = (await svc.listImages())[0]!.imageId;
    await writeFile(at('taken.raw'), 'x');
    const { exportImageTaskId } = await svc.exportImage({
      imageId: image,
      diskImageFormat: 'raw',
      destination: { path: at('taken.raw') },
    });
    expect((await svc.waitForTask(exportImageTaskId)).statusMessage).toMatch(
      /failed: destination.path: .* already exists/,
    );
    expect(await readFile(at('taken.raw'), 'utf8')).toBe('x');
  });

  it('imports from an http URL (streamed) and from a blob, with the sha256 checked', async () => {
    await qemuImg('convert', '-f', 'raw', '-O', 'vdi', at('orig.raw'), at('disk.vdi'));
    const viaUrl = await importAndWait({
      format: 'vdi',
      url: `${base}/disk.vdi`,
      sha256: await sha256(at('disk.vdi')),
    });
    expect(viaUrl.snapshotDetails[0]).toMatchObject({ format: 'vdi', virtualSize: 24 << 20 });
    const s = store();
    await s.createContainer('uploads');
    await s.putBlob('uploads', 'disk.vdi', createReadStream(at('disk.vdi')));
    const viaBlob = await importAndWait({ format: 'vdi', container: 'uploads', name: 'disk.vdi' });
    expect(viaBlob.snapshotDetails[0]!.sha256).toBe(viaUrl.snapshotDetails[0]!.sha256);
    const { importTaskId } = await svc.importImage({
      diskContainers: [{ format: 'vdi', url: `${base}/disk.vdi`, sha256: '0'.repeat(64) }],
    });
    expect((await svc.waitForTask(importTaskId)).statusMessage).toMatch(
      /^failed: .*sha256 is [0-9a-f]{64}, expected 0+/,
    );
  });

  it('imports an OVA: disks from the OVF, its CPUs and memory, manifest checked', async () => {
    await qemuImg(
      'convert',
      '-f',
      'raw',
      '-O',
      'vmdk',
      '-o',
      'subformat=streamOptimized',
      at('orig.raw'),
      at('disk1.vmdk'),
    );
    const desc = ovf('disk1.vmdk', 2, 512);
    const mf = `SHA256(vm.ovf)= ${createHash('sha256').update(desc).digest('hex')}\nSHA256(disk1.vmdk)= ${await sha256(at('disk1.vmdk'))}\n`;
    await packOva(at('vm.ova'), [
      ['vm.ovf', Buffer.from(desc)],
      ['disk1.vmdk', at('disk1.vmdk')],
      ['vm.mf', Buffer.from(mf)],
    ]);
    const task = await importAndWait({ format: 'ova', path: at('vm.ova') });
    expect(task.hardware).toEqual({ cores: 2, ramMiB: 512 });
    const raw = at('ova.raw');
    await exportAndWait(task.imageId!, 'raw', raw);
    await qemuImg('compare', '-f', 'raw', '-F', 'raw', at('orig.raw'), raw);
  });

  it('refuses hostile OVAs: ../ members, absolute members, a bad manifest, a VMDK naming host files', async () => {
    const desc = Buffer.from(ovf('disk1.vmdk', 1, 128));
    const disk = at('disk1.vmdk');
    const evilVmdk = Buffer.from(
      '# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 8 FLAT "/etc/shadow" 0\n',
    );
    const cases: Array<[string, Array<[string, Uint8Array | string]>, RegExp]> = [
      [
        'dotdot',
        [
          ['vm.ovf', desc],
          ['../evil', Buffer.from('x')],
          ['disk1.vmdk', disk],
        ],
        /OVA: member "\.\.\/evil" names a path outside/,
      ],
      [
        'absolute',
        [
          ['/etc/cron.d/x', Buffer.from('x')],
          ['vm.ovf', desc],
        ],
        /OVA: member "\/etc\/cron.d\/x" names a path outside/,
      ],
      [
        'manifest',
        [
          ['vm.ovf', desc],
          ['disk1.vmdk', disk],
          ['vm.mf', Buffer.from(`SHA256(disk1.vmdk)= ${'ab'.repeat(32)}\n`)],
        ],
        /OVA manifest: SHA256 of disk1.vmdk is/,
      ],
      [
        'hostvmdk',
        [
          ['vm.ovf', desc],
          ['disk1.vmdk', evilVmdk],
        ],
        /rule vmdk-create-type/,
      ],
    ];
    for (const [name, members, message] of cases) {
      await packOva(at(`${name}.ova`), members);
      const { importTaskId } = await svc.importImage({
        diskContainers: [{ format: 'ova', path: at(`${name}.ova`) }],
      });
      const task = await svc.waitForTask(importTaskId);
      expect([name, task.status, task.statusMessage]).toEqual([
        name,
        'deleted',
        expect.stringMatching(message),
      ]);
    }
    await expect(readFile(join(dir, 'evil'))).rejects.toThrow();
  });
});
