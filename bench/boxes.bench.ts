// Vagrant boxes, vmkit against Vagrant on the same machine and the same box, side by side in one
// run: (1) importing a libvirt box (vmkit importImage of the .box vs `vagrant box add`); (2) three
// machines from the box until all three answer on SSH (vmkit: a box master and createNodesInGroup
// of 3, cold and warm, each node's SSH login with the box's key; Vagrant: `vagrant up` of a
// 3-machine Vagrantfile, vagrant-libvirt with driver qemu, until it logged in to all three). The box
// is the Debian test guest (systemd, cloud-init, OpenSSH) with a `vagrant` user holding Vagrant's
// insecure key and the guest agent installed, made by vmkit (a master with a post-install step,
// exported as a libvirt box) and cached in the temp folder by the guest's inputs. Vagrant's own
// log (VAGRANT_LOG=info) is stamped line by line to say where its time goes.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type ComputeService, createComputeService, type MasterSpec, type ProgressEvent } from '@vmkit/core';
import { fileSystemBlobStore, memoryBlobStore } from '@vmkit/core/blobstore';
import { createImportService, VAGRANT_INSECURE_PUBLIC_KEY, vagrantBoxReader } from '@vmkit/import';
import { libvirtProvider } from '@vmkit/provider-libvirt';
import { VAGRANT_INSECURE_PRIVATE_KEY } from '../packages/import/src/box/vagrant-login.js';
import { libvirtVagrantfile } from '../packages/import/test-support/vagrant-libvirt.js';
import { debianGuest } from '../packages/provider-libvirt/test-support/debian-guest.js';
import { sweep } from '../packages/provider-libvirt/test-support/libvirt-sweep.js';
import { bareQemuBoots } from './lib/bare-qemu-boots.js';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const URI = 'qemu:///system';
const POOL = 'vmkit';
const virsh = (...args: string[]) => exec('virsh', ['-c', URI, ...args]);
/** One Debian boot under TCG: about a minute idle, minutes on a loaded two-core host. */
const BOOT_MS = 600_000;
/** The machines' size, the same for both tools. */
const RAM_MIB = 512;

/**
 * Makes the box's `vagrant` user (Vagrant's insecure key, password `vagrant`, sudo without one),
 * and makes the box boot on any of the two hypervisor set-ups without a cloud-init datasource,
 * as boxes do: vagrant-libvirt gives none, nor does vmkit when a node needs no drive. Without a
 * datasource cloud-init does not run, so (1) the network it rendered at the master's build stays
 * (DHCP on the build's NIC only): the box brings up DHCP on vagrant-libvirt's NIC (`ens5`) and
 * vmkit's (`ens16`) itself, cloud-init's network rendering off; (2) no SSH host key is made (the
 * master's clean-up removed the build's): sshd makes an ed25519 key before it starts when there
 * is none. Found by this bench: without (1) Vagrant's machines never got a lease (no frame left
 * their NICs), without (2) sshd never started under Vagrant.
 */
const VAGRANT_USER = `rm -f /etc/network/interfaces.d/50-cloud-init
echo 'network: {config: disabled}' >/etc/cloud/cloud.cfg.d/99-box-network.cfg
printf 'allow-hotplug ens5\\niface ens5 inet dhcp\\nallow-hotplug ens16\\niface ens16 inet dhcp\\n' >/etc/network/interfaces.d/60-box
mkdir -p /etc/systemd/system/ssh.service.d
printf '[Service]\\nExecStartPre=\\nExecStartPre=/bin/sh -c "test -f /etc/ssh/ssh_host_ed25519_key || ssh-keygen -q -t ed25519 -N \\\\"\\\\" -f /etc/ssh/ssh_host_ed25519_key"\\nExecStartPre=/usr/sbin/sshd -t\\n' >/etc/systemd/system/ssh.service.d/10-host-key.conf
id vagrant >/dev/null 2>&1 || useradd -m -s /bin/bash vagrant
echo vagrant:vagrant | chpasswd
install -d -m 0700 -o vagrant -g vagrant /home/vagrant/.ssh
printf '%s\\n' '${VAGRANT_INSECURE_PUBLIC_KEY}' >/home/vagrant/.ssh/authorized_keys
chown vagrant:vagrant /home/vagrant/.ssh/authorized_keys
chmod 0600 /home/vagrant/.ssh/authorized_keys
mkdir -p /etc/sudoers.d
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/vagrant
chmod 0440 /etc/sudoers.d/vagrant`;

/**
 * The Debian box (made once per guest build and kept in the temp folder): a master of the Debian
 * guest (family `debian`: its post-install boot installs the guest agent) with the `vagrant`
 * user, its volume imported and exported by vmkit as a libvirt box.
 */
async function debianBox(prefix: string, dir: string): Promise<string> {
  const guest = debianGuest();
  const manifest = readFileSync(join(guest.disk, '..', 'manifest.json'), 'utf8');
  const key = createHash('sha256').update(manifest).update(VAGRANT_USER).digest('hex').slice(0, 16);
  const box = join(tmpdir(), `vmkit-bench-debian-vagrant-${key}.box`);
  if (existsSync(box)) return box;
  const at = (...n: string[]) => join(dir, 'make-box', ...n);
  const spec: MasterSpec = {
    id: 'bx-make',
    os: { family: 'debian', version: '12', arch: 'x86_64' },
    source: { type: 'disk', path: guest.disk, format: 'qcow2' },
    hardware: { cores: 1, ramMiB: RAM_MIB, diskGiB: 3 },
    postInstall: [{ name: 'vagrant-user', run: VAGRANT_USER }],
  };
  await using compute = await createComputeService({
    provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix, postInstallTimeoutMs: BOOT_MS }),
    store: fileSystemBlobStore({ root: at('store') }),
    images: [spec],
    ports: { leaseDir: at('leases') },
  });
  await compute.ensureImage('bx-make');
  const { stdout } = await virsh('vol-list', POOL);
  const master = stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find(([n, p]) => n?.startsWith(`${prefix}m-`) && p?.endsWith('.qcow2'))?.[1];
  if (!master) throw new Error('no master volume');
  await using imports = await createImportService({ store: memoryBlobStore(), scratchDir: at('scratch') });
  const made = await imports.importImage({
    diskContainers: [{ format: 'qcow2', path: master }],
    imageId: 'deb',
  });
  const imported = await imports.waitForTask(made.importTaskId);
  if (imported.status !== 'completed') throw new Error(`import: ${imported.statusMessage}`);
  const out = await imports.exportImage({
    imageId: 'deb',
    diskImageFormat: 'box',
    boxProvider: 'libvirt',
    destination: { path: at('debian.box') },
  });
  const exported = await imports.waitForTask(out.exportImageTaskId);
  if (exported.status !== 'completed') throw new Error(`export: ${exported.statusMessage}`);
  await compute.deleteImage('bx-make', { force: true });
  await rename(at('debian.box'), box);
  return box;
}

/** Vagrant's stages as its output names them, per machine. */
const STAGES = [
  ['base box image uploaded to the pool', /Uploading base box image as volume/],
  ['domain created', /Creating domain with the following settings/],
  ['domain started', /Starting domain\./],
  ['waiting for an IP address', /Waiting for domain to get an IP address/],
  ['IP leased, waiting for SSH', /Waiting for machine to boot|Waiting for SSH to become available/],
  ['SSH answered (insecure key seen)', /Vagrant insecure key detected/],
  ['key replaced, ready', /Machine booted and ready/],
] as const;

/**
 * `vagrant up` of the 3-machine Vagrantfile in `dir`: each output line stamped, each machine's
 * stages' times, and the time every machine is ready (undefined when not within the bound).
 */
async function vagrantUp(
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ readyMs?: number; stages: Map<string, number[]>; log: string }> {
  const stages = new Map<string, number[]>(STAGES.map(([name]) => [name, []]));
  const seen = new Set<string>();
  let log = '';
  let pending = '';
  const start = performance.now();
  const ready = new Set<string>();
  let readyMs: number | undefined;
  let up: ChildProcess | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      up = spawn('vagrant', ['up', '--provider=libvirt'], {
        cwd: dir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const onData = (d: Buffer) => {
        pending += d;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const t = performance.now() - start;
          log += `${(t / 1000).toFixed(2).padStart(8)} ${line}\n`;
          // `==> m1: …` for stages, `    m1: …` for details such as the insecure key's.
          const machine = /(?:==> |^\s+)(m\d): /.exec(line)?.[1];
          if (!machine) continue;
          for (const [name, pattern] of STAGES)
            if (pattern.test(line) && !seen.has(`${machine} ${name}`)) {
              seen.add(`${machine} ${name}`);
              stages.get(name)!.push(t);
            }
          if (/Machine booted and ready/.test(line)) {
            ready.add(machine);
            if (ready.size === 3) {
              readyMs = t;
              resolve();
            }
          }
        }
      };
      up.stdout!.on('data', onData);
      up.stderr!.on('data', onData);
      up.on('exit', (code) =>
        readyMs === undefined ? reject(new Error(`vagrant up ended (${code})`)) : resolve(),
      );
      setTimeout(resolve, BOOT_MS).unref();
    });
  } catch (error) {
    log += `${String(error)}\n`;
  }
  const still = up as ChildProcess | undefined;
  if (still && still.exitCode === null) {
    // All ready: vagrant up ends by itself; past the bound, it is interrupted.
    if (readyMs === undefined) still.kill('SIGINT');
    await new Promise((r) => (still.exitCode === null ? still.once('exit', r) : r(undefined)));
  }
  return { ...(readyMs !== undefined ? { readyMs } : {}), stages, log };
}

/** createNodesInGroup of 3 (cold or warm) until each answers SSH, with the progress events' times. */
async function vmkitUp(
  compute: ComputeService,
  imageId: string,
  warm: boolean,
): Promise<{ ms: number; sdkMs: number; sshMs: number[]; events: string[] }> {
  const events: string[] = [];
  const start = performance.now();
  const onProgress = (e: ProgressEvent) =>
    events.push(
      `${((performance.now() - start) / 1000).toFixed(2).padStart(7)} ${e.phase} ${e.message ?? ''}`,
    );
  const template = await compute
    .templateBuilder()
    .imageId(imageId)
    .options({ inboundPorts: [22] })
    .build();
  const nodes = await compute.createNodesInGroup('bx', 3, template, { warm, onProgress });
  const sdkMs = performance.now() - start;
  if (warm && nodes.some((n) => n.warm?.resumed !== true)) throw new Error('a warm node booted cold');
  const sshMs = await Promise.all(
    nodes.map(async (n) => {
      await compute.waitForNode(n.id, { until: 'ssh', timeoutMs: BOOT_MS });
      const t = performance.now() - start;
      events.push(`${(t / 1000).toFixed(2).padStart(7)} ssh ${n.name} answered`);
      return t;
    }),
  );
  const ms = performance.now() - start;
  await compute.destroyNodesMatching((n) => n.group === 'bx');
  return { ms, sdkMs, sshMs, events };
}

export default async function boxesBench(report: BenchReport): Promise<void> {
  execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
  const prefix = `${process.env.VMKIT_BENCH_PREFIX ?? 'vbx'}${Date.now().toString(36).slice(-5)}-`;
  const network = `${prefix}mgmt`;
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-boxes-'));
  const at = (...n: string[]) => join(dir, ...n);
  const env = { ...process.env, VAGRANT_HOME: at('vagrant-home'), VAGRANT_LOG: 'info' };
  const vagrant = (...args: string[]) => exec('vagrant', args, { cwd: dir, env, maxBuffer: 1 << 26 });
  const logFile = process.env.VMKIT_BENCH_VAGRANT_LOG;
  try {
    const boxFile = await debianBox(prefix, dir);

    report.section('Vagrant box import: the same libvirt box (Debian 12 guest, 3 GiB disk)');
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
            diskContainers: [{ format: 'box', provider: 'libvirt', path: boxFile }],
          });
          const done = await imports.waitForTask(t.importTaskId);
          if (done.status !== 'completed') throw new Error(done.statusMessage);
        }),
      );
      await rm(at(`imp${run}`), { recursive: true, force: true });
      times.vagrant.push(await timeMs(() => vagrant('box', 'add', '--name', `${box}${run}`, boxFile)));
      await vagrant('box', 'remove', '--force', `${box}${run}`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    report.compare(
      'box import (median of 3)',
      { name: 'vmkit importImage', ms: median(times.vmkit) },
      { name: 'vagrant box add', ms: median(times.vagrant) },
    );

    report.section(
      '3 machines from the box until all three answer SSH (vagrant-libvirt driver qemu vs vmkit)',
    );
    await vagrant('box', 'add', '--name', box, boxFile);
    await writeFile(
      at('Vagrantfile'),
      await libvirtVagrantfile({
        box,
        uri: URI,
        pool: POOL,
        prefix,
        network,
        machines: 3,
        memoryMiB: RAM_MIB,
      }),
    );
    const v = await vagrantUp(dir, env);
    if (logFile) await writeFile(logFile, v.log);
    // Vagrant's stages first, so that they stay printed whatever vmkit's side does.
    for (const [name] of STAGES) {
      const ms = v.stages.get(name)!;
      if (ms.length > 0)
        report.figure({
          name: `vagrant up: ${name}, first / last machine`,
          value: Math.min(...ms),
          unit: `ms / ${Math.max(...ms).toFixed(0)} ms (${ms.length} of 3)`,
        });
    }
    await vagrant('destroy', '-f');
    await vagrant('box', 'remove', '--force', box);

    const provider = libvirtProvider({
      uri: URI,
      pool: POOL,
      namePrefix: prefix,
      postInstallTimeoutMs: BOOT_MS,
    });
    const boxSpec = (id: string, warm: boolean): MasterSpec => ({
      id,
      os: { family: 'linux', version: 'debian-12-box', arch: 'x86_64' },
      source: { type: 'box', path: boxFile, provider: 'libvirt' },
      hardware: { cores: 1, ramMiB: RAM_MIB, diskGiB: 3 },
      ...(warm ? { warm: { until: 'ssh' as const, timeoutMs: BOOT_MS } } : {}),
    });
    await using compute = await createComputeService({
      provider,
      store: fileSystemBlobStore({ root: at('vmkit') }),
      sources: { box: vagrantBoxReader({ cacheDir: at('box-cache') }) },
      images: [boxSpec('bx', false), boxSpec('bxw', true)],
      ports: { leaseDir: at('leases') },
    });
    let masterMs = 0;
    let cold = { ms: 0, sdkMs: 0, sshMs: [] as number[], events: [] as string[] };
    const coldMs = await timeMs(async () => {
      masterMs = await timeMs(() => compute.ensureImage('bx'));
      cold = await vmkitUp(compute, 'bx', false);
    });
    // The warm template: booted once per master until SSH, saved; its cost is reported on its own.
    const templateMs = await timeMs(async () => {
      await compute.ensureImage('bxw');
      const t = await compute
        .templateBuilder()
        .imageId('bxw')
        .options({ inboundPorts: [22] })
        .build();
      await compute.createNodesInGroup('bxw-first', 1, t, { warm: true });
      await compute.destroyNodesMatching((n) => n.group === 'bxw-first');
    });
    const warm = await vmkitUp(compute, 'bxw', true);
    if (logFile) await writeFile(`${logFile}.vmkit`, [...cold.events, '--- warm', ...warm.events].join('\n'));

    if (v.readyMs !== undefined) {
      report.compare(
        'cold: box read, master made, 3 nodes cloned, booted, SSH answered',
        { name: 'vmkit up -n 3', ms: coldMs },
        { name: 'vagrant up', ms: v.readyMs },
        3,
      );
      report.compare(
        'warm (template saved beforehand): 3 nodes resumed, SSH answered',
        { name: 'vmkit up --warm -n 3', ms: warm.ms },
        { name: 'vagrant up', ms: v.readyMs },
        3,
      );
    } else {
      report.figure({
        name: `vagrant up: machines ready within ${BOOT_MS / 1000} s`,
        value: v.stages.get('key replaced, ready')!.length,
        unit: 'of 3',
        note: 'no ratio',
      });
      report.figure({ name: 'vmkit up -n 3 (cold)', value: coldMs, unit: 'ms' });
      report.figure({ name: 'vmkit up --warm -n 3', value: warm.ms, unit: 'ms' });
    }
    report.figure({
      name: 'vmkit cold: box read and master made (ensureImage)',
      value: masterMs,
      unit: 'ms',
    });
    report.figure({ name: 'vmkit cold: createNodesInGroup of 3', value: cold.sdkMs, unit: 'ms' });
    report.figure({
      name: 'vmkit cold: SSH of the 3 nodes, first / last',
      value: Math.min(...cold.sshMs),
      unit: `ms / ${Math.max(...cold.sshMs).toFixed(0)} ms`,
    });
    report.figure({
      name: 'vmkit warm: template booted and saved (once per master)',
      value: templateMs,
      unit: 'ms',
    });
    report.figure({ name: 'vmkit warm: createNodesInGroup of 3', value: warm.sdkMs, unit: 'ms' });
    report.figure({
      name: 'vmkit warm: SSH of the 3 nodes, first / last',
      value: Math.min(...warm.sshMs),
      unit: `ms / ${Math.max(...warm.sshMs).toFixed(0)} ms`,
    });

    // A reference: the same box booted by bare QEMU (no libvirt, no tool), alone and 3 at once.
    report.section(
      'reference: the box under bare QEMU (no libvirt, no tool, the leanest devices), until SSH login',
    );
    await mkdir(at('bare'));
    await exec('tar', ['-xf', boxFile, '-C', at('bare'), 'box.img']);
    const bare = (count: number) =>
      bareQemuBoots({
        disk: at('bare', 'box.img'),
        dir: at('bare'),
        count,
        ramMiB: RAM_MIB,
        cpus: 1,
        user: 'vagrant',
        privateKey: VAGRANT_INSECURE_PRIVATE_KEY,
        nicSlot: 16,
        timeoutMs: BOOT_MS,
      });
    const [alone = 0] = await bare(1);
    report.figure({ name: 'bare QEMU: 1 guest alone, SSH login', value: alone, unit: 'ms' });
    const three = Math.max(...(await bare(3)));
    report.figure({ name: 'bare QEMU: 3 guests at once, the last SSH login', value: three, unit: 'ms' });
    report.compare(
      'vmkit cold against bare QEMU',
      { name: 'vmkit up -n 3', ms: coldMs },
      { name: 'bare QEMU x3', ms: three },
    );
    if (v.readyMs !== undefined)
      report.compare(
        '3 bare QEMU boots at once against Vagrant (what 3 cold boots here leave to any tool)',
        { name: 'bare QEMU x3', ms: three },
        { name: 'vagrant up', ms: v.readyMs },
      );
  } finally {
    await vagrant('destroy', '-f').catch(() => {});
    await sweep(URI, prefix, POOL);
    await virsh('net-destroy', network).catch(() => {});
    await virsh('net-undefine', network).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}
