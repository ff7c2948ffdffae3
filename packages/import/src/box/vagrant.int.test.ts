// Vagrant itself (Debian's `vagrant` and `vagrant-libvirt`, installed by scripts/setup.sh) reads
// the boxes vmkit writes, and vmkit reads the boxes vagrant-libvirt's own script makes.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { memoryBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDisks, importToEnd, qemuImg, randomFile } from '../../test-support/import-fixtures.js';
import { createImportService, type ImportService } from '../import-service.js';
import type { DiskContainer } from '../task-model.js';

const exec = promisify(execFile);
/** The packaging script vagrant-libvirt documents (shipped in Debian's package). */
const CREATE_BOX = '/usr/share/doc/vagrant-libvirt/examples/create_box.sh';

describe('Vagrant reads vmkit boxes and vmkit reads Vagrant boxes', () => {
  let dir: string;
  let svc: ImportService;
  const name = `vmkit-box-${process.pid}-${Date.now().toString(36)}`;
  const at = (...n: string[]) => join(dir, ...n);
  /** Vagrant with a home of this test's own: nothing of the machine's boxes is seen or touched. */
  const vagrant = (...args: string[]) =>
    exec('vagrant', args, { cwd: dir, env: { ...process.env, VAGRANT_HOME: at('vagrant-home') } });

  const imported = (container: DiskContainer) => importToEnd(svc, container);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-vagrant-int-'));
    svc = await createImportService({
      store: memoryBlobStore(),
      scratchDir: at('scratch'),
      imageDir: at('images'),
    });
  });
  afterAll(async () => {
    await vagrant('box', 'remove', '--force', name).catch(() => {});
    await svc?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('`vagrant box add` accepts an exported libvirt box, lists it for libvirt, and `vagrant box remove` takes it away', async () => {
    await randomFile(at('disk.raw'), 4);
    const image = await imported({ format: 'raw', path: at('disk.raw') });
    const { exportImageTaskId } = await svc.exportImage({
      imageId: image.imageId!,
      diskImageFormat: 'box',
      boxProvider: 'libvirt',
      destination: { path: at('vmkit.box') },
    });
    expect((await svc.waitForTask(exportImageTaskId)).status).toBe('completed');
    const added = await vagrant('box', 'add', '--name', name, at('vmkit.box'));
    expect(added.stdout).toContain(`Successfully added box '${name}' (v0) for 'libvirt'`);
    expect((await vagrant('box', 'list')).stdout).toContain(`${name} (libvirt, 0)`);
    // What Vagrant unpacked is the exported disk, byte for byte as qemu-img reads it.
    const boxDir = at('vagrant-home', 'boxes', name, '0', 'libvirt');
    expect((await readdir(boxDir)).sort()).toEqual(['Vagrantfile', 'box.img', 'metadata.json']);
    await compareDisks(at('disk.raw'), 'raw', join(boxDir, 'box.img'), 'qcow2');
    await vagrant('box', 'remove', name);
    expect((await vagrant('box', 'list')).stdout).not.toContain(name);
    expect(await readdir(at('vagrant-home', 'boxes'))).toEqual([]);
  });

  it("a box made by vagrant-libvirt's create_box.sh is imported with its disk and its Vagrantfile's memory", async () => {
    await randomFile(at('made.raw'), 4);
    await qemuImg('convert', '-f', 'raw', '-O', 'qcow2', at('made.raw'), at('made.qcow2'));
    await writeFile(
      at('add.rb'),
      '  config.vm.provider :libvirt do |v|\n    v.memory = 384\n    v.cpus = 3\n  end\n',
    );
    await exec('bash', [CREATE_BOX, at('made.qcow2'), at('made.box'), at('add.rb')], { cwd: dir });
    const task = await imported({ format: 'box', provider: 'libvirt', path: at('made.box') });
    expect([task.status, task.failureReason]).toEqual(['completed', undefined]);
    expect(task.hardware).toEqual({ ramMiB: 384, cores: 3 });
    await compareDisks(at('made.raw'), 'raw', task.snapshotDetails[0]!.outputPath!, 'qcow2');
  });
});
