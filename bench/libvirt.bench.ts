// libvirt figures, side by side in one run: our RPC client against virsh, a linked clone +
// define + start through the SDK against the same steps by hand (qemu-img, virsh), and the time
// from createNodesInGroup to a node's first HTTP answer against the guest's own boot time.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createComputeService, type MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { buildConfigDrive } from '@vmkit/imaging';
import { LibvirtClient, libvirtProvider } from '@vmkit/provider-libvirt';
import { buildDomainXml } from '../packages/provider-libvirt/src/provider/xml/domain-xml.js';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const URI = 'qemu:///system';
const CALLS = 1000;

async function firstAnswer(url: string, timeoutMs = 90_000): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(400) });
      if (res.ok) return performance.now() - start;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no answer from ${url}`);
}

export default async function libvirtBench(report: BenchReport): Promise<void> {
  execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
  execFileSync('bash', [join(repo, 'test-guest/build.sh')], { stdio: 'inherit' });
  const guest = join(repo, '.vmkit/test-guest');
  const prefix = `vb${Date.now().toString(36).slice(-5)}-`;
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-libvirt-'));
  const client = await LibvirtClient.connect(URI);
  const cleanup: Array<() => Promise<unknown>> = [];
  const nodeCleanup = cleanup;
  try {
    report.section(`libvirt: ${CALLS} sequential RPC calls (CONNECT_GET_VERSION)`);
    const ours = await timeMs(async () => {
      for (let i = 0; i < CALLS; i++) await client.getVersion();
    });
    const theirs = await timeMs(async () => {
      for (let i = 0; i < CALLS; i++) await run('virsh', ['-c', URI, 'version']);
    });
    report.figure({ name: 'our client, per call', value: ours / CALLS, unit: 'ms' });
    report.figure({ name: 'virsh, per invocation', value: theirs / CALLS, unit: 'ms' });
    report.compare(`${CALLS} calls`, { name: 'LibvirtClient', ms: ours }, { name: 'virsh', ms: theirs });

    const spec: MasterSpec = {
      id: 'bench-guest',
      os: { family: 'linux', version: 'vmkit-test-guest', arch: 'x86_64' },
      source: {
        type: 'kernel',
        kernel: join(guest, 'vmlinuz'),
        initrd: join(guest, 'initrd.img'),
        cmdline: 'console=ttyS0 panic=-1 vmkit.mode=install root=/dev/vda',
      },
      hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
    };
    const provider = libvirtProvider({ uri: URI, namePrefix: prefix });
    await using compute = await createComputeService({
      provider,
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [spec],
      ports: { leaseDir: join(dir, 'leases') },
    });
    const buildMs = await timeMs(() => compute.ensureImage('bench-guest'));
    report.section('libvirt: master build (kernel installer under TCG)');
    report.figure({ name: 'lazy master build', value: buildMs, unit: 'ms' });

    const pool = await client.storage.poolLookupByName('vmkit');
    const masterVol = (await client.storage.poolListAllVolumes(pool)).find(
      (v) => v.name.startsWith(`${prefix}m-`) && v.name.endsWith('.qcow2'),
    );
    if (!masterVol) throw new Error('master volume not found');
    const masterPath = await client.storage.volGetPath(masterVol);
    const kernel = await client.storage.volGetPath(
      await client.storage.volLookupByName(pool, masterVol.name.replace('.qcow2', '.vmlinuz')),
    );
    const initrd = await client.storage.volGetPath(
      await client.storage.volLookupByName(pool, masterVol.name.replace('.qcow2', '.initrd')),
    );
    const poolDir = masterPath.slice(0, masterPath.lastIndexOf('/'));

    report.section('libvirt: linked clone + define + start of one node');
    const hardware = { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 };
    const network = {
      nics: [{ slot: 0, attachment: 'nat' as const, mac: '52:54:00:be:00:01', portForwards: [] }],
    };
    const refData = {
      pool: 'vmkit',
      volume: masterVol.name,
      format: 'qcow2',
      capacityBytes: 1 << 30,
      boot: 'kernel',
      kernelVolume: masterVol.name.replace('.qcow2', '.vmlinuz'),
      initrdVolume: masterVol.name.replace('.qcow2', '.initrd'),
      cmdline: 'console=ttyS0 panic=-1 vmkit.mode=run root=/dev/vda',
      volumes: [masterVol.name],
    };
    const sdkMs: number[] = [];
    const handMs: number[] = [];
    // Five rounds; each round's nodes are removed before the next so no booting guest competes for the CPU.
    for (let i = 0; i < 5; i++) {
      const name = `sdk${i}`;
      sdkMs.push(
        await timeMs(async () => {
          const node = await provider.cloneNode({
            name,
            group: 'bench',
            imageId: 'bench-guest',
            master: { id: masterVol.name, data: refData },
            hardware,
            network,
            linked: true,
            tags: [],
            userMetadata: {},
          });
          await provider.startNode(node.id);
        }),
      );
      nodeCleanup.push(() => provider.destroyNode(`${prefix}${name}`));
      const hand = `${prefix}hand${i}`;
      const xmlFile = join(dir, `${hand}.xml`);
      await writeFile(
        xmlFile,
        buildDomainXml({
          name: hand,
          type: 'qemu',
          machine: 'pc',
          arch: 'x86_64',
          memoryMiB: 256,
          vcpus: 1,
          boot: { kind: 'kernel', kernel, initrd, cmdline: refData.cmdline },
          disks: [{ pool: 'vmkit', volume: `${hand}.qcow2`, format: 'qcow2', role: 'disk' }],
          nics: network.nics,
          qemuCommandLine: true,
        }),
      );
      handMs.push(
        await timeMs(async () => {
          await run('qemu-img', [
            'create',
            '-q',
            '-f',
            'qcow2',
            '-b',
            masterPath,
            '-F',
            'qcow2',
            join(poolDir, `${hand}.qcow2`),
          ]);
          await run('virsh', ['-c', URI, 'pool-refresh', 'vmkit']);
          await run('virsh', ['-c', URI, 'define', xmlFile]);
          await run('virsh', ['-c', URI, 'start', hand]);
        }),
      );
      nodeCleanup.push(async () => {
        await run('virsh', ['-c', URI, 'destroy', hand]).catch(() => {});
        await run('virsh', ['-c', URI, 'undefine', hand]).catch(() => {});
        await run('virsh', ['-c', URI, 'vol-delete', '--pool', 'vmkit', `${hand}.qcow2`]).catch(() => {});
      });
      for (const c of nodeCleanup.splice(0).reverse()) await c().catch(() => {});
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    report.compare(
      'clone+define+start (median of 5)',
      { name: 'SDK', ms: median(sdkMs) },
      { name: 'qemu-img + virsh', ms: median(handMs) },
      1 / 1.1,
    );
    for (const c of nodeCleanup.splice(0).reverse()) await c().catch(() => {});

    report.section('libvirt: createNodesInGroup to first HTTP answer vs the guest booting by itself');
    const handName = `${prefix}boot`;
    const port = 47_000 + Math.floor(Math.random() * 1000);
    const handXml = join(dir, 'boot.xml');
    await run('qemu-img', [
      'create',
      '-q',
      '-f',
      'qcow2',
      '-b',
      masterPath,
      '-F',
      'qcow2',
      join(poolDir, `${handName}.qcow2`),
    ]);
    // The same config drive the SDK gives its nodes (the guest waits for one before serving).
    const drive = await buildConfigDrive({
      format: 'nocloud',
      instanceId: 'i-bench',
      hostname: 'bench',
      userData: 'bench',
    });
    await writeFile(join(poolDir, `${handName}-config.iso`), drive);
    await run('virsh', ['-c', URI, 'pool-refresh', 'vmkit']);
    await writeFile(
      handXml,
      buildDomainXml({
        name: handName,
        type: 'qemu',
        machine: 'pc',
        arch: 'x86_64',
        memoryMiB: 256,
        vcpus: 1,
        boot: { kind: 'kernel', kernel, initrd, cmdline: refData.cmdline },
        disks: [
          { pool: 'vmkit', volume: `${handName}.qcow2`, format: 'qcow2', role: 'disk' },
          { pool: 'vmkit', volume: `${handName}-config.iso`, format: 'raw', role: 'cdrom' },
        ],
        nics: [
          {
            slot: 0,
            attachment: 'nat',
            mac: '52:54:00:be:00:02',
            portForwards: [
              { name: 'tcp-80', protocol: 'tcp', hostIp: '127.0.0.1', hostPort: port, guestPort: 80 },
            ],
          },
        ],
        qemuCommandLine: true,
      }),
    );
    await run('virsh', ['-c', URI, 'define', handXml]);
    nodeCleanup.push(async () => {
      await run('virsh', ['-c', URI, 'destroy', handName]).catch(() => {});
      await run('virsh', ['-c', URI, 'undefine', handName]).catch(() => {});
      await run('virsh', ['-c', URI, 'vol-delete', '--pool', 'vmkit', `${handName}.qcow2`]).catch(() => {});
      await run('virsh', ['-c', URI, 'vol-delete', '--pool', 'vmkit', `${handName}-config.iso`]).catch(
        () => {},
      );
    });
    // Alternate the two, three rounds each, and compare medians (TCG boot times vary by a second or two).
    const guestRuns: number[] = [];
    const sdkRuns: number[] = [];
    for (let round = 0; round < 3; round++) {
      const bootStart = performance.now();
      await run('virsh', ['-c', URI, 'start', handName]);
      await firstAnswer(`http://127.0.0.1:${port}/`);
      guestRuns.push(performance.now() - bootStart);
      await run('virsh', ['-c', URI, 'destroy', handName]);

      const t0 = performance.now();
      const [node] = await compute.createNodesInGroup('bench', 1, { inboundPorts: [80], userData: 'bench' });
      await firstAnswer(`http://127.0.0.1:${node?.hostPorts['tcp-80']}/`);
      sdkRuns.push(performance.now() - t0);
      await compute.destroyNodesMatching((n) => n.group === 'bench');
    }
    for (const c of nodeCleanup.splice(0).reverse()) await c().catch(() => {});
    const guestBoot = median(guestRuns);
    const sdkBoot = median(sdkRuns);
    report.figure({
      name: 'guest alone: virsh start to first HTTP answer (median of 3)',
      value: guestBoot,
      unit: 'ms',
    });
    report.figure({
      name: 'createNodesInGroup to first HTTP answer (median of 3)',
      value: sdkBoot,
      unit: 'ms',
    });
    report.figure({
      name: 'SDK time on top of the guest boot',
      value: sdkBoot - guestBoot,
      unit: 'ms',
      goal: { op: '<', value: 500 },
      note: 'same guest, same config drive; the SDK also builds the drive and leases the port',
    });
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    // Whatever is left under this run's prefix (nodes, the master and its boot volumes).
    for (const d of await client.domains.listAll()) {
      if (!d.name.startsWith(prefix)) continue;
      await client.domains.destroy(d).catch(() => {});
      await client.domains.undefine(d, 3).catch(() => {});
    }
    const pool = await client.storage.poolLookupByName('vmkit').catch(() => undefined);
    if (pool) {
      for (const v of await client.storage.poolListAllVolumes(pool)) {
        if (v.name.startsWith(prefix)) await client.storage.volDelete(v).catch(() => {});
      }
    }
    await client.close();
    await rm(dir, { recursive: true, force: true });
  }
}
