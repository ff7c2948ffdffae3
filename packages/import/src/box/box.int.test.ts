import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareDisks,
  importToEnd,
  packOva,
  qemuImg,
  randomFile,
} from '../../test-support/import-fixtures.js';
import { createImportService, type ImportService } from '../import-service.js';
import type { DiskContainer } from '../task-model.js';

const exec = promisify(execFile);

describe('Vagrant boxes in and out (real tar, gzip and qemu-img)', () => {
  let dir: string;
  let svc: ImportService;
  const registered: MasterSpec[] = [];
  const at = (...n: string[]) => join(dir, ...n);
  /** A box folder made as vagrant-libvirt documents it: box.img, metadata.json, Vagrantfile. */
  async function libvirtBoxDir(name: string, meta: object, disk: { format: string; mib: number }) {
    const d = at(name);
    await mkdir(d);
    await qemuImg('create', '-q', '-f', disk.format, at(name, 'box.img'), `${disk.mib}M`);
    await writeFile(at(name, 'metadata.json'), JSON.stringify(meta));
    await writeFile(
      at(name, 'Vagrantfile'),
      [
        'Vagrant.configure("2") do |config|',
        '  config.vm.provider :libvirt do |libvirt|',
        '    libvirt.memory = 768 # MiB',
        '    libvirt.cpus = 2',
        '    libvirt.memory = `rm -rf /` if false',
        '  end',
        'end',
      ].join('\n'),
    );
    return d;
  }
  const tarGz = async (folder: string, box: string) => {
    await exec('tar', ['czf', box, '-C', folder, '.']);
    return box;
  };
  const scratchTasks = async () => readdir(at('scratch', 'tasks')).catch(() => []);

  const importBox = (container: DiskContainer) => importToEnd(svc, container);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-box-int-'));
    svc = await createImportService({
      store: fileSystemBlobStore({ root: at('store'), durable: false }),
      scratchDir: at('scratch'),
      imageDir: at('images'),
      limits: { maxImageBytes: 96 * 1024 ** 2 },
      compute: { ensureImage: async (spec) => void registered.push(spec) },
    });
  });
  afterAll(async () => {
    await svc?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a gzip libvirt box: qcow2 disk, Vagrantfile memory and CPUs, login vagrant with the insecure key', async () => {
    const folder = await libvirtBoxDir(
      'good',
      { provider: 'libvirt', format: 'qcow2', virtual_size: 1 },
      {
        format: 'qcow2',
        mib: 32,
      },
    );
    const task = await importBox({
      format: 'box',
      provider: 'libvirt',
      path: await tarGz(folder, at('good.box')),
    });
    expect([task.status, task.failureReason]).toEqual(['completed', undefined]);
    expect(task.hardware).toEqual({ ramMiB: 768, cores: 2 });
    expect(task.login).toBe('vagrant');
    expect(task.snapshotDetails[0]).toMatchObject({ format: 'qcow2', virtualSize: 32 << 20 });
    const spec = registered.find((s) => s.id === task.imageId)!;
    expect(spec.hardware).toEqual({ cores: 2, ramMiB: 768 });
    expect(spec.login?.user).toBe('vagrant');
    // The private half of the key Vagrant's boxes authorise: ssh-keygen derives the public key from it.
    await writeFile(at('key'), spec.login!.privateKey!, { mode: 0o600 });
    const pub = (await exec('ssh-keygen', ['-y', '-f', at('key')])).stdout.trim();
    const shipped = await readFile(
      '/usr/share/rubygems-integration/all/gems/vagrant-2.3.4/keys/vagrant.pub',
      'utf8',
    ).catch(
      () =>
        'ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzIw+niNltGEFHzD8+v1I2YJ6oX',
    );
    expect(shipped.startsWith(pub.slice(0, 100))).toBe(true);
    expect(await scratchTasks()).toEqual([]);
  });

  it.each([
    [
      'a member named ../escape',
      'box-member',
      /"..\/escape" names a path outside/,
      async (box: string) => {
        await packOva(box, [
          ['metadata.json', Buffer.from(JSON.stringify({ provider: 'libvirt' }))],
          ['../escape', Buffer.from('x')],
        ]);
      },
    ],
    [
      'a symlink member',
      'box-member',
      /"\.\/extra" is a symlink/,
      async (box: string) => {
        const folder = await libvirtBoxDir(
          'link',
          { provider: 'libvirt', format: 'qcow2' },
          { format: 'qcow2', mib: 1 },
        );
        await symlink('/etc/shadow', join(folder, 'extra'));
        await tarGz(folder, box);
      },
    ],
    [
      'metadata.json saying qcow2 over a raw disk',
      'format-mismatch',
      /claimed to be qcow2 but is raw/,
      async (box: string) => {
        await tarGz(
          await libvirtBoxDir('liar', { provider: 'libvirt', format: 'qcow2' }, { format: 'raw', mib: 4 }),
          box,
        );
      },
    ],
    [
      'metadata.json with a format a libvirt box cannot have',
      'box-metadata',
      /format "vmdk" is not qcow2/,
      async (box: string) => {
        await tarGz(
          await libvirtBoxDir(
            'vmdkmeta',
            { provider: 'libvirt', format: 'vmdk' },
            { format: 'qcow2', mib: 1 },
          ),
          box,
        );
      },
    ],
    [
      'a disk larger than limits.maxImageBytes',
      'box-size',
      /limits.maxImageBytes/,
      async (box: string) => {
        const folder = await libvirtBoxDir(
          'big',
          { provider: 'libvirt', format: 'qcow2' },
          { format: 'qcow2', mib: 1 },
        );
        await randomFile(join(folder, 'box.img'), 100);
        await exec('tar', ['cf', box, '-C', folder, '.']);
      },
    ],
  ])(
    'refuses a box with %s, naming rule %s, leaving nothing in scratch or images',
    async (_what, rule, message, make) => {
      const box = at(`${rule}-${Math.random().toString(36).slice(2)}.box`);
      await make(box);
      const task = await importBox({ format: 'box', path: box });
      expect(task.status).toBe('deleted');
      expect(task.failureReason).toContain(`rule ${rule}`);
      expect(task.failureReason).toMatch(message);
      expect(await scratchTasks()).toEqual([]);
      expect(await readdir(at('images')).catch(() => [])).not.toContain(task.imageId);
      await expect(readFile(at('scratch', 'escape'))).rejects.toThrow();
    },
  );

  it.each(['libvirt', 'virtualbox'] as const)(
    'exports a %s box and imports it back: qemu-img compare finds the disks equal',
    async (provider) => {
      await randomFile(at(`${provider}.raw`), 8);
      const orig = await importBox({ format: 'raw', path: at(`${provider}.raw`) });
      const boxPath = at(`out-${provider}.box`);
      const { exportImageTaskId } = await svc.exportImage({
        imageId: orig.imageId!,
        diskImageFormat: 'box',
        boxProvider: provider,
        destination: { path: boxPath },
      });
      expect(await svc.waitForTask(exportImageTaskId)).toMatchObject({
        status: 'completed',
        boxProvider: provider,
      });
      const listing = (await exec('tar', ['tf', boxPath])).stdout.trim().split('\n').sort();
      const meta = JSON.parse((await exec('tar', ['xOf', boxPath, 'metadata.json'])).stdout);
      if (provider === 'libvirt') {
        expect(listing).toEqual(['Vagrantfile', 'box.img', 'metadata.json']);
        expect(meta).toEqual({ provider: 'libvirt', format: 'qcow2', virtual_size: 1 });
      } else {
        expect(listing).toEqual(['Vagrantfile', 'box-disk001.vmdk', 'box.ovf', 'metadata.json']);
        expect(meta).toEqual({ provider: 'virtualbox' });
        await exec('tar', ['xf', boxPath, '-C', dir, 'box-disk001.vmdk']);
        expect((await qemuImg('info', at('box-disk001.vmdk'))).toString()).toContain('streamOptimized');
      }
      const back = await importBox({ format: 'box', provider, path: boxPath });
      expect([back.status, back.failureReason]).toEqual(['completed', undefined]);
      await compareDisks(
        orig.snapshotDetails[0]!.outputPath!,
        'qcow2',
        back.snapshotDetails[0]!.outputPath!,
        'qcow2',
      );
      await compareDisks(at(`${provider}.raw`), 'raw', back.snapshotDetails[0]!.outputPath!, 'qcow2');
    },
  );
});
