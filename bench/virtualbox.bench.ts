// VirtualBox figures against the vboxwebsrv simulator: SOAP round trips per node created and
// destroyed (counted by the simulator), connect + logon time (the WSDL is parsed once per
// provider), and createNodesInGroup against the same SOAP calls made by hand with virtualbox-soap.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { writeIso9660 } from '@vmkit/imaging';
import { virtualBoxProvider } from '@vmkit/provider-virtualbox';
import { startVboxSimulator } from '@vmkit/provider-virtualbox/testing';
import * as vbox from 'virtualbox-soap';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';

const NODES = 5;
const ROUNDS = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The calls the provider makes to clone, configure, register and start one NAT node (master's memory and CPUs), by hand. */
async function byHand(
  api: vbox.IVirtualBox,
  manager: vbox.IWebsessionManager,
  source: vbox.IMachine,
  folder: string,
  name: string,
  port: number,
) {
  const target = await api.createMachine(
    join(folder, name, `${name}.vbox`),
    name,
    [],
    'Linux_64',
    '',
    '',
    '',
    '',
  );
  const cloning = await source.cloneTo(target, 'MachineState' as vbox.CloneMode, [
    'Link' as vbox.CloneOptions,
  ]);
  await cloning?.waitForCompletion(-1);
  await cloning?.getResultCode();
  // Configured while unregistered (mutable without a session); registering saves the settings.
  const adapter = await target.getNetworkAdapter(0);
  await adapter.setAttachmentType('NAT' as vbox.NetworkAttachmentType);
  await adapter.setMACAddress(`5254000000${(port % 256).toString(16).padStart(2, '0')}`);
  await (await adapter.getNATEngine()).addRedirect(
    'tcp-22',
    'TCP' as vbox.NATProtocol,
    '127.0.0.1',
    port,
    '',
    22,
  );
  await api.registerMachine(target);
  await target.setExtraData('vmkit/node', '{}');
  const session = await manager.getSessionObject(api);
  const launching = await target.launchVMProcess(session, 'headless', []);
  await launching?.waitForCompletion(-1);
  await launching?.getResultCode();
  await session.unlockMachine();
}

export default async function virtualboxBench(report: BenchReport): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-vbox-'));
  const sim = await startVboxSimulator({ machineFolder: join(dir, 'default') });
  const iso = join(dir, 'installer.iso');
  await writeFile(iso, await writeIso9660([{ path: 'README.TXT', content: 'x' }], { volumeId: 'BENCH' }));
  const options = {
    url: sim.url,
    username: sim.username,
    password: sim.password,
    machineFolder: join(dir, 'machines'),
    pollIntervalMs: 10,
  };
  try {
    report.section('VirtualBox (vboxwebsrv simulator)');
    const first = virtualBoxProvider({ ...options, namePrefix: 'bench-a-' });
    const cold = await timeMs(() => first.init());
    await first.close();
    const second = virtualBoxProvider({ ...options, namePrefix: 'bench-b-' });
    const warm = await timeMs(() => second.init());
    await second.close();
    report.figure({
      name: 'connect + logon, first provider in the process',
      value: cold,
      unit: 'ms',
      note: 'parses the WSDL',
    });
    report.figure({ name: 'connect + logon, a later provider', value: warm, unit: 'ms' });

    await using compute = await createComputeService({
      provider: virtualBoxProvider({ ...options, namePrefix: 'bench-' }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [
        {
          id: 'bench',
          os: { family: 'linux', version: 'b', arch: 'x86_64' },
          source: { type: 'iso', path: iso },
        },
      ],
      ports: { leaseDir: join(dir, 'leases') },
      // As many clones at once as the by-hand run makes, so the comparison is like for like.
      concurrency: { clones: NODES },
    });
    await compute.ensureImage('bench');
    const template = { inboundPorts: [22] };
    await compute.destroyNodesMatching(() => true);
    await compute.createNodesInGroup('warm', 1, template);
    await compute.destroyNodesMatching(() => true);
    sim.resetCounters();
    await compute.createNodesInGroup('bench', NODES, template);
    const created = sim.requestCount;
    await compute.destroyNodesMatching(() => true);
    const total = sim.requestCount;
    report.figure({
      name: 'SOAP round trips per node created (clone, configure, start)',
      value: created / NODES,
      unit: 'calls',
    });
    report.figure({
      name: 'SOAP round trips per node created and destroyed (destroyNodesMatching)',
      value: total / NODES,
      unit: 'calls',
      goal: { op: '<=', value: 30 },
    });
    sim.resetCounters();
    const byId = await compute.createNodesInGroup('by-id', NODES, template);
    for (const node of byId) await compute.destroyNode(node.id);
    report.figure({
      name: 'SOAP round trips per node created and destroyed (destroyNode by id)',
      value: sim.requestCount / NODES,
      unit: 'calls',
      goal: { op: '<=', value: 30 },
    });
    const sdkRuns: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      sdkRuns.push(await timeMs(() => compute.createNodesInGroup(`timed${r}`, NODES, template)));
      await compute.destroyNodesMatching(() => true);
    }
    const sdkMs = median(sdkRuns);
    report.figure({
      name: 'requests the simulator rejected',
      value: sim.rejections.length,
      unit: 'requests',
      goal: { op: '<=', value: 0 },
    });

    const manager = await vbox.connect(sim.url);
    const api = await manager.logon(sim.username, sim.password);
    const masterName =
      (await Promise.all((await api.getMachines()).map((m) => m.getName()))).find((n) =>
        n.startsWith('bench-m-'),
      ) ?? '';
    const source = await (await (await api.findMachine(masterName)).findSnapshot('vmkit-base')).getMachine();
    const handRuns: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      handRuns.push(
        await timeMs(() =>
          Promise.all(
            Array.from({ length: NODES }, (_, i) =>
              byHand(api, manager, source, join(dir, 'hand'), `hand-${r}-${i}`, 40_000 + r * NODES + i),
            ),
          ),
        ),
      );
    }
    const handMs = median(handRuns);
    await manager.logoff(api);
    report.compare(
      `createNodesInGroup(${NODES}) vs the same SOAP calls by hand (median of ${ROUNDS})`,
      { name: 'vmkit', ms: sdkMs },
      { name: 'by hand', ms: handMs },
      0.91,
    );
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}
