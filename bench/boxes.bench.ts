// Vagrant boxes, vmkit against Vagrant on the same machine and the same box, side by side in one
// run: (1) importing a libvirt box (vmkit importImage of the .box vs `vagrant box add`); (2) three
// machines from the box until each answers (vmkit: a box master and createNodesInGroup of 3; Vagrant:
// `vagrant up` of a 3-machine Vagrantfile, vagrant-libvirt with driver qemu). The box is the busybox
// test guest on a disk SYSLINUX boots; it serves HTTP and has no SSH server, so "answers" is its
// page for both (Vagrant's own SSH wait never ends and is cut once all three pages answered).
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore, memoryBlobStore } from '@vmkit/core/blobstore';
import { createImportService, vagrantBoxReader } from '@vmkit/import';
import { libvirtProvider } from '@vmkit/provider-libvirt';
import { bootableDisk } from '../packages/import/test-support/bootable-disk.js';
import { libvirtVagrantfile } from '../packages/import/test-support/vagrant-libvirt.js';
import { waitForGuestPage } from '../packages/provider-libvirt/test-support/http.js';
import { sweep } from '../packages/provider-libvirt/test-support/libvirt-sweep.js';
import { testGuest, testGuestMasterSpec } from '../packages/provider-libvirt/test-support/test-guest.js';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const URI = 'qemu:///system';
const POOL = 'vmkit';
const virsh = (...args: string[]) => exec('virsh', ['-c', URI, ...args]);
/** How long `vagrant up`'s machines may take to answer (its run here: about a minute). */
const VAGRANT_WAIT_MS = 300_000;

export default async function boxesBench(report: BenchReport): Promise<void> {
  execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
  const prefix = `vbx${Date.now().toString(36).slice(-5)}-`;
  const network = `${prefix}mgmt`;
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-boxes-'));
  const at = (...n: string[]) => join(dir, ...n);
  const env = { ...process.env, VAGRANT_HOME: at('vagrant-home') };
  const vagrant = (...args: string[]) => exec('vagrant', args, { cwd: dir, env, maxBuffer: 1 << 24 });
  let up: ChildProcess | undefined;
  try {
    // The box: the test guest's master on a bootable disk, exported by vmkit as a libvirt box.
    {
      await using compute = await createComputeService({
        provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
        store: fileSystemBlobStore({ root: at('setup') }),
        images: [testGuestMasterSpec('bx-guest')],
        ports: { leaseDir: at('leases') },
      });
      await compute.ensureImage('bx-guest');
      const { stdout } = await virsh('vol-list', POOL);
      const master = stdout
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .find(([n, p]) => n?.startsWith(`${prefix}m-`) && p?.endsWith('.qcow2'))?.[1];
      if (!master) throw new Error('no master volume');
      await bootableDisk(master, testGuest(), at('guest.raw'), dir);
      await using imports = await createImportService({ store: memoryBlobStore(), scratchDir: at('mk') });
      const made = await imports.importImage({
        diskContainers: [{ format: 'raw', path: at('guest.raw') }],
        imageId: 'g',
      });
      await imports.waitForTask(made.importTaskId);
      const out = await imports.exportImage({
        imageId: 'g',
        diskImageFormat: 'box',
        destination: { path: at('guest.box') },
      });
      await imports.waitForTask(out.exportImageTaskId);
      await compute.deleteImage('bx-guest');
    }

    report.section('Vagrant box import: the same libvirt box (busybox guest, 200 MiB disk)');
    const box = `${prefix}box`;
    const times = { vmkit: [] as number[], vagrant: [] as number[] };
    for (let run = 0; run < 3; run++) {
      await using imports = await createImportService({
        store: memoryBlobStore(),
        scratchDir: at(`imp${run}`, 'scratch'),
      });
      times.vmkit.push(
        await timeMs(async () => {
          const t = await imports.importImage({
            diskContainers: [{ format: 'box', provider: 'libvirt', path: at('guest.box') }],
          });
          const done = await imports.waitForTask(t.importTaskId);
          if (done.status !== 'completed') throw new Error(done.statusMessage);
        }),
      );
      times.vagrant.push(
        await timeMs(() => vagrant('box', 'add', '--name', `${box}${run}`, at('guest.box'))),
      );
      await vagrant('box', 'remove', '--force', `${box}${run}`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    report.compare(
      'box import (median of 3)',
      { name: 'vmkit importImage', ms: median(times.vmkit) },
      { name: 'vagrant box add', ms: median(times.vagrant) },
    );

    report.section('3 machines from the box until each answers HTTP (vagrant-libvirt driver qemu vs vmkit)');
    await vagrant('box', 'add', '--name', box, at('guest.box'));
    await writeFile(
      at('Vagrantfile'),
      await libvirtVagrantfile({ box, uri: URI, pool: POOL, prefix, network, machines: 3 }),
    );
    // Where Vagrant's time goes: when each of its stages first shows in its output.
    const phases = [
      ['base box image uploaded as a volume', /Uploading base box image as volume/],
      ['first domain being created', /Creating domain with the following settings/],
      ['first wait for an IP address', /Waiting for domain to get an IP address/],
      ['first wait for SSH', /Waiting for SSH to become available/],
    ] as const;
    const marks = new Map<string, number>();
    let log = '';
    const start = performance.now();
    const onOutput = (d: Buffer) => {
      log += d;
      for (const [name, pattern] of phases)
        if (!marks.has(name) && pattern.test(log)) marks.set(name, performance.now() - start);
    };
    let vagrantAnswered = 0;
    const vagrantMs = await timeMs(async () => {
      up = spawn('vagrant', ['up', '--provider=libvirt'], {
        cwd: dir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      up.stdout!.on('data', onOutput);
      up.stderr!.on('data', onOutput);
      const answered = new Set<string>();
      const exited = new Promise<string>((r) => up!.on('exit', (c) => r(`exit ${c}`)));
      // Bounded: a machine that never answers is reported, and vmkit's side still runs.
      for (const deadline = Date.now() + VAGRANT_WAIT_MS; answered.size < 3; ) {
        vagrantAnswered = answered.size;
        if (Date.now() > deadline) return;
        const state = await Promise.race([
          exited,
          new Promise<string>((r) => setTimeout(() => r('running'), 500)),
        ]);
        if (state !== 'running') throw new Error(`vagrant up ended (${state}):\n${log}`);
        const leases = (await virsh('net-dhcp-leases', network).catch(() => ({ stdout: '' }))).stdout;
        const ips = [...leases.matchAll(/ipv4\s+(\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!);
        await Promise.all(
          ips
            .filter((ip) => !answered.has(ip))
            .map((ip) =>
              waitForGuestPage(`http://${ip}/`, 1_000).then(
                () => answered.add(ip),
                () => undefined,
              ),
            ),
        );
      }
      vagrantAnswered = answered.size;
    });
    up!.kill('SIGINT');
    await new Promise((r) => up!.once('exit', r));
    up = undefined;
    await vagrant('destroy', '-f');
    await vagrant('box', 'remove', '--force', box);

    const split = { master: 0, clone: 0, boot: 0 };
    const vmkitMs = await timeMs(async () => {
      await using compute = await createComputeService({
        provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
        store: fileSystemBlobStore({ root: at('vmkit') }),
        sources: { box: vagrantBoxReader({ cacheDir: at('box-cache') }) },
        images: [
          {
            id: 'bx',
            os: { family: 'linux', version: 'busybox', arch: 'x86_64' },
            source: { type: 'box', path: at('guest.box'), provider: 'libvirt' },
          },
        ],
        ports: { leaseDir: at('leases') },
      });
      split.master = await timeMs(() => compute.ensureImage('bx'));
      const template = await compute
        .templateBuilder()
        .imageId('bx')
        .options({ inboundPorts: [80] })
        .build();
      let nodes: Awaited<ReturnType<typeof compute.createNodesInGroup>> = [];
      split.clone = await timeMs(async () => {
        nodes = await compute.createNodesInGroup('bx', 3, template);
      });
      split.boot = await timeMs(() =>
        Promise.all(
          nodes.map((n) => waitForGuestPage(`http://127.0.0.1:${n.hostPorts['tcp-80']}/`, 600_000)),
        ),
      );
      await compute.destroyNodesMatching((n) => n.group === 'bx');
      await compute.deleteImage('bx');
    });
    if (vagrantAnswered === 3)
      report.compare(
        '3 machines until each answers (box registered, master made, nodes cloned and booted)',
        { name: 'vmkit', ms: vmkitMs },
        { name: 'vagrant up', ms: vagrantMs },
        3,
      );
    else {
      report.figure({ name: 'vmkit: 3 machines until each answers', value: vmkitMs, unit: 'ms' });
      report.figure({
        name: `vagrant up: machines answering within ${VAGRANT_WAIT_MS / 1000} s`,
        value: vagrantAnswered,
        unit: 'of 3',
        note: 'no ratio: a machine got a lease but never answered',
      });
    }
    report.figure({ name: 'vmkit: box read and master made (ensureImage)', value: split.master, unit: 'ms' });
    report.figure({
      name: 'vmkit: 3 nodes cloned and started (createNodesInGroup)',
      value: split.clone,
      unit: 'ms',
    });
    report.figure({ name: 'vmkit: until the 3 pages answer', value: split.boot, unit: 'ms' });
    for (const [name] of phases) {
      const ms = marks.get(name);
      if (ms !== undefined) report.figure({ name: `vagrant up: ${name} after`, value: ms, unit: 'ms' });
    }
  } finally {
    up?.kill('SIGKILL');
    await vagrant('destroy', '-f').catch(() => {});
    await sweep(URI, prefix, POOL);
    await virsh('net-destroy', network).catch(() => {});
    await virsh('net-undefine', network).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}
