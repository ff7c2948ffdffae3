// `vagrant up --provider=libvirt` (Debian's vagrant-libvirt, driver qemu) boots a box vmkit wrote:
// the test guest's master, put on a disk SYSLINUX boots, exported as a libvirt box. The guest has
// no SSH server, so the proof is its page answering on the address vagrant-libvirt's management
// network gave it; `vagrant destroy` and `vagrant box remove` then clean up.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore, memoryBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForGuestPage } from '../../../provider-libvirt/test-support/http.js';
import { sweep } from '../../../provider-libvirt/test-support/libvirt-sweep.js';
import {
  runPrefix,
  testGuest,
  testGuestMasterSpec,
} from '../../../provider-libvirt/test-support/test-guest.js';
import { bootableDisk } from '../../test-support/bootable-disk.js';
import { libvirtVagrantfile } from '../../test-support/vagrant-libvirt.js';
import { createImportService } from '../import-service.js';

const exec = promisify(execFile);
const URI = 'qemu:///system';
const POOL = 'vmkit';
const virsh = (...args: string[]) => exec('virsh', ['-c', URI, ...args]);

describe('vagrant up boots a box vmkit exported (vagrant-libvirt, driver qemu)', () => {
  const prefix = runPrefix('vgu');
  const box = `${prefix}box`;
  const network = `${prefix}mgmt`;
  let dir: string;
  let up: ChildProcess | undefined;
  const at = (...n: string[]) => join(dir, ...n);
  const vagrant = (...args: string[]) =>
    exec('vagrant', args, { cwd: dir, env: { ...process.env, VAGRANT_HOME: at('vagrant-home') } });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-vagrant-up-'));
  });
  afterAll(async () => {
    up?.kill('SIGKILL');
    await vagrant('destroy', '-f').catch(() => {});
    await vagrant('box', 'remove', '--force', box).catch(() => {});
    await sweep(URI, prefix, POOL);
    await virsh('net-destroy', network).catch(() => {});
    await virsh('net-undefine', network).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('vagrant box add, vagrant up: the guest answers on its management address; destroy and remove leave nothing', async () => {
    await using compute = await createComputeService({
      provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
      store: fileSystemBlobStore({ root: at('compute') }),
      images: [testGuestMasterSpec('vgu-guest')],
      ports: { leaseDir: at('leases') },
    });
    await compute.ensureImage('vgu-guest');
    const { stdout: vols } = await virsh('vol-list', POOL);
    const master = vols
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .find(([n, p]) => n?.startsWith(`${prefix}m-`) && p?.endsWith('.qcow2'))?.[1];
    expect(master).toBeDefined();
    await bootableDisk(master!, testGuest(), at('guest.raw'), dir);

    await using imports = await createImportService({ store: memoryBlobStore(), scratchDir: at('scratch') });
    const { importTaskId } = await imports.importImage({
      diskContainers: [{ format: 'raw', path: at('guest.raw') }],
    });
    const imported = await imports.waitForTask(importTaskId);
    expect(imported.status).toBe('completed');
    const { exportImageTaskId } = await imports.exportImage({
      imageId: (await imports.listImages())[0]!.imageId,
      diskImageFormat: 'box',
      boxProvider: 'libvirt',
      destination: { path: at('guest.box') },
    });
    expect((await imports.waitForTask(exportImageTaskId)).status).toBe('completed');
    await vagrant('box', 'add', '--name', box, at('guest.box'));

    await writeFile(
      at('Vagrantfile'),
      await libvirtVagrantfile({ box, uri: URI, pool: POOL, prefix, network }),
    );
    let log = '';
    up = spawn('vagrant', ['up', '--provider=libvirt'], {
      cwd: dir,
      env: { ...process.env, VAGRANT_HOME: at('vagrant-home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    up.stdout!.on('data', (d: Buffer) => (log += d));
    up.stderr!.on('data', (d: Buffer) => (log += d));
    const exited = new Promise<number | null>((r) => up!.on('exit', (code) => r(code)));
    // vagrant-libvirt waits for the domain's DHCP lease, then for SSH (which this guest lacks).
    let ip: string | undefined;
    for (const deadline = Date.now() + 150_000; !ip && Date.now() < deadline; ) {
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('running'), 1000))]);
      if (code !== 'running') throw new Error(`vagrant up ended (${String(code)}) before a lease:\n${log}`);
      const leases = await virsh('net-dhcp-leases', network).catch(() => ({ stdout: '' }));
      ip = /ipv4\s+(\d+\.\d+\.\d+\.\d+)\//.exec(leases.stdout)?.[1];
    }
    expect(ip, log).toBeDefined();
    const { page } = await waitForGuestPage(`http://${ip}/`, 60_000);
    expect(page.memTotalKiB).toBeGreaterThan(128 * 1024);
    expect(log).toContain(`Creating image (snapshot of base box volume)`);
    up.kill('SIGINT');
    await exited;
    up = undefined;
    await vagrant('destroy', '-f');
    const { stdout: domains } = await virsh('list', '--all', '--name');
    expect(domains).not.toContain(prefix.slice(0, -1));
    await vagrant('box', 'remove', box);
    expect((await vagrant('box', 'list')).stdout).not.toContain(box);
  });
});
