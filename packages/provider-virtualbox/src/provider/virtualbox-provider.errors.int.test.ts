import { type CloneSpec, type MasterRef, runMasterBuild, VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  isoMasterSpec,
  itOnSimulator,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../test-support/vbox-env.js';
import { virtualBoxProvider } from './virtualbox-provider.js';

describe('VirtualBox provider errors name what is wrong', () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    env = await vboxTestEnv();
  });
  afterAll(async () => {
    await env.close();
  });

  it('a wrong password is a PROVIDER error naming the URL and user, never the password', async () => {
    const provider = virtualBoxProvider({ ...env.options(), password: 'wrong-secret-123' });
    const error = (await provider.init().catch((e: unknown) => e)) as VmkitError;
    expect(VmkitError.is(error, 'PROVIDER')).toBe(true);
    expect(error.message).toContain(env.url);
    expect(error.message).toContain(`'${env.username}'`);
    expect(error.message).toMatch(/refused/);
    expect(JSON.stringify({ m: error.message, d: error.details, c: String(error.cause) })).not.toContain(
      'wrong-secret-123',
    );
    await provider.close();
  });

  it('an unreachable URL is a PROVIDER error naming the endpoint', async () => {
    const provider = virtualBoxProvider({ ...env.options(), url: 'http://127.0.0.1:9/' });
    const error = (await provider.listNodes().catch((e: unknown) => e)) as VmkitError;
    expect(VmkitError.is(error, 'PROVIDER')).toBe(true);
    expect(error.message).toMatch(/cannot reach vboxwebsrv at http:\/\/127\.0\.0\.1:9\/ \(ECONNREFUSED\)/);
    await provider.close();
  });

  it('refuses bad options eagerly, naming the option', () => {
    expect(() => virtualBoxProvider({ url: 'ftp://x/' })).toThrow(/url: must be an http\(s\) URL/);
    expect(() => virtualBoxProvider({ url: 'http://u:p@h/' })).toThrow(/url: must not carry credentials/);
    expect(() => virtualBoxProvider({ url: 'http://h/', namePrefix: '../x' })).toThrow(/namePrefix/);
    expect(() => virtualBoxProvider({ url: 'http://h/', machineFolder: 'rel' })).toThrow(
      /machineFolder: must be an absolute path/,
    );
  });

  it('a kernel source is UNSUPPORTED naming source.type, and the build leaves nothing', async () => {
    const provider = testProvider(env);
    const spec = {
      ...(await isoMasterSpec(env, 'vbox-kernel')),
      source: { type: 'kernel' as const, kernel: '/k', initrd: '/i' },
    };
    const error = (await runMasterBuild(provider, spec, 'kernel-master').catch(
      (e: unknown) => e,
    )) as VmkitError;
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect(error.message).toMatch(/^source\.type: 'kernel'/);
    expect(env.sim?.machines() ?? []).toEqual([]);
    await provider.close();
  });

  describe('with a master', () => {
    let master: MasterRef;
    const provider = () => testProvider(env);
    const spec = (name: string, over: Partial<CloneSpec> = {}): CloneSpec => ({
      name,
      group: 'err',
      imageId: 'vbox-errors',
      master,
      hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
      network: { nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:00:10', portForwards: [] }] },
      linked: true,
      tags: [],
      userMetadata: {},
      ...over,
    });
    beforeAll(async () => {
      const p = provider();
      master = await runMasterBuild(p, await isoMasterSpec(env, 'vbox-errors'), 'errors-master');
      await p.close();
    });

    it('a bridged NIC naming a missing host interface is INVALID_ARGUMENT naming the field; nothing is made', async () => {
      const p = provider();
      const before = env.sim?.machines().length;
      const nic = {
        slot: 0,
        attachment: 'bridged' as const,
        hostInterface: 'nope0',
        mac: '52:54:00:00:00:11',
        portForwards: [],
      };
      const error = (await p
        .cloneNode(spec('bridged-missing', { network: { nics: [nic] } }))
        .catch((e: unknown) => e)) as VmkitError;
      expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      expect(error.message).toBe(
        "network.nics[0].hostInterface: the VirtualBox host has no network interface named 'nope0'",
      );
      expect(env.sim?.machines().length).toBe(before);
      await p.close();
    });

    itOnSimulator('bridged, host-only and internal NICs attach to what they name', async () => {
      const sim = simOf(env);
      const p = provider();
      const nics = [
        {
          slot: 0,
          attachment: 'bridged' as const,
          hostInterface: 'eth0',
          mac: '52:54:00:00:00:21',
          portForwards: [],
        },
        {
          slot: 1,
          attachment: 'hostOnly' as const,
          hostInterface: 'vboxnet0',
          mac: '52:54:00:00:00:22',
          portForwards: [],
        },
        {
          slot: 2,
          attachment: 'internal' as const,
          network: 'lab',
          mac: '52:54:00:00:00:23',
          portForwards: [],
        },
      ];
      const hardware = { id: 'custom', cores: 2, ramMiB: 384, diskGiB: 1 };
      const node = await p.cloneNode(spec('three-nics', { network: { nics }, hardware }));
      const m = sim.machines().find((x) => x.name === node.id);
      expect(m?.adapters).toEqual([
        { slot: 0, type: 'Bridged', mac: '525400000021', network: 'eth0' },
        { slot: 1, type: 'HostOnly', mac: '525400000022', network: 'vboxnet0' },
        { slot: 2, type: 'Internal', mac: '525400000023', network: 'lab' },
      ]);
      // The master has 256 MiB and 1 CPU; this node asked for others.
      expect([m?.memoryMB, m?.cpus]).toEqual([384, 2]);
      const networks = await p.listHostNetworks();
      expect(networks.map((n) => [n.name, n.kind])).toEqual([
        ['NAT', 'nat'],
        ['eth0', 'bridge'],
        ['vboxnet0', 'hostOnly'],
      ]);
      expect(networks[1]?.addresses).toEqual(['192.168.1.10/24']);
      await p.destroyNode(node.id);
      await p.close();
    });

    it('makes full clones on request: their own base disk, deleted with them', async () => {
      const sim = env.sim;
      const p = provider();
      const node = await p.cloneNode(spec('full', { linked: false }));
      expect(node.linkedClone).toBe(false);
      if (sim) {
        const disk = sim.media().find((m) => m.location.includes(`/${node.id}/`));
        expect(disk?.parent).toBeUndefined();
      }
      await p.destroyNode(node.id);
      if (sim) expect(sim.media().filter((m) => m.location.includes(`/${node.id}/`))).toEqual([]);
      await p.close();
    });

    it('a node removed by another process is NOT_FOUND to start and already gone to destroy', async () => {
      const mine = provider();
      const other = provider();
      const node = await mine.cloneNode(spec('elsewhere'));
      await other.destroyNode(node.id);
      const error = await mine.startNode(node.id).catch((e: unknown) => e);
      expect(VmkitError.is(error, 'NOT_FOUND')).toBe(true);
      await mine.destroyNode(node.id);
      expect(await mine.getNode(node.id)).toBeUndefined();
      await mine.close();
      await other.close();
    });

    it('a node this provider made and another process removed is gone to getNode and listNodes', async () => {
      const mine = provider();
      const other = provider();
      const node = await mine.cloneNode(spec('gone-elsewhere'));
      const kept = await mine.cloneNode(spec('kept-here'));
      expect((await mine.listNodes()).map((n) => n.name).sort()).toEqual(['gone-elsewhere', 'kept-here']);
      await other.destroyNode(node.id);
      expect(await mine.getNode(node.id)).toBeUndefined();
      expect((await mine.listNodes()).map((n) => n.name)).toEqual(['kept-here']);
      expect((await mine.getNode(kept.id))?.name).toBe('kept-here');
      await mine.destroyNode(kept.id);
      expect(env.sim?.rejections ?? []).toEqual([]);
      await mine.close();
      await other.close();
    });

    it('refuses to delete a master that still has linked clones, and removes nothing', async () => {
      const p = provider();
      const node = await p.cloneNode(spec('keeps-master'));
      const error = await p.deleteMaster(master).catch((e: unknown) => e);
      expect(VmkitError.is(error, 'CONFLICT')).toBe(true);
      expect((error as Error).message).toMatch(
        /still has 1 linked clone\(s\) \(keeps-master\): destroy them first/,
      );
      expect(await p.mastersExist([master])).toEqual([true]);
      await p.destroyNode(node.id);
      expect(env.sim?.rejections ?? []).toEqual([]);
      await p.close();
    });

    it('a vfat config drive is UNSUPPORTED naming configDrive.filesystem', async () => {
      const p = provider();
      const configDrive = { format: 'nocloud' as const, filesystem: 'vfat' as const, instanceId: 'i-1' };
      const error = (await p.cloneNode(spec('vfat', { configDrive })).catch((e: unknown) => e)) as VmkitError;
      expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
      expect(error.message).toMatch(/^configDrive\.filesystem:/);
      await p.close();
    });

    itOnSimulator('suspend, resume and stop go through shared locks that are always released', async () => {
      const sim = simOf(env);
      const p = testProvider(env, { lockRetries: 2 });
      const node = await p.cloneNode(spec('locked'));
      await p.startNode(node.id);
      // A running machine's VM process holds the write lock; memory cannot change, the lock is shared.
      await p.suspendNode(node.id);
      expect((await p.getNode(node.id))?.status).toBe('suspended');
      await p.resumeNode(node.id);
      expect(sim.machines().find((m) => m.name === node.id)?.locked).toBe(true);
      await p.stopNode(node.id);
      expect(sim.machines().find((m) => m.name === node.id)?.locked).toBe(false);
      await p.destroyNode(node.id);
      expect(sim.rejections).toEqual([]);
      await p.close();
      expect(sim.websessions.count).toBe(0);
    });
  });
});

describe('VirtualBox provider sessions and aborts', () => {
  itOnSimulator('logs on again when vboxwebsrv expired its idle websession', async () => {
    const env = await vboxTestEnv({ idleTimeoutMs: 100 });
    const sim = simOf(env);
    const provider = testProvider(env);
    expect(await provider.listNodes()).toEqual([]);
    expect(sim.websessions.count).toBe(1);
    // The idle time passes on the clock (only Date is faked: no timer runs early, nothing sleeps).
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 250 });
    try {
      expect(await provider.listNodes()).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
    expect(sim.calls.get('IWebsessionManager_logon')).toBe(2);
    // The first websession expired: only the new one is open.
    expect(sim.websessions.count).toBe(1);
    await provider.close();
    await env.close();
  });

  itOnSimulator('an abort during the clone leaves no machine, disk or config drive', async () => {
    const env = await vboxTestEnv({ behaviour: { taskMs: 150 } });
    const provider = testProvider(env);
    try {
      const master = await runMasterBuild(provider, await isoMasterSpec(env, 'vbox-abort'), 'abort-master');
      const sim = simOf(env);
      const before = sim.media().length;
      const controller = new AbortController();
      const name = `${env.prefix}aborted`;
      // Aborted once VirtualBox is cloning: the target machine exists and its clone task runs.
      const cloning = vi
        .waitFor(
          () => {
            expect(sim.calls.get('IMachine_cloneTo')).toBe(1);
            expect(sim.machines().find((m) => m.name === name)?.registered).toBe(false);
          },
          { timeout: 30_000, interval: 2 },
        )
        .then(() => controller.abort());
      const error = await provider
        .cloneNode(
          {
            name: 'aborted',
            group: 'a',
            imageId: 'vbox-abort',
            master,
            hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
            network: { nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:00:31', portForwards: [] }] },
            linked: true,
            configDrive: { format: 'nocloud', instanceId: 'i-abort' },
            tags: [],
            userMetadata: {},
          },
          { signal: controller.signal },
        )
        .catch((e: unknown) => e);
      await cloning;
      expect(VmkitError.is(error, 'ABORTED'), String(error)).toBe(true);
      expect(await provider.listNodes()).toEqual([]);
      expect(sim.machines().map((m) => m.name)).toEqual([`${env.prefix}m-abort-master`]);
      expect(sim.media().length).toBe(before);
      expect(sim.rejections).toEqual([]);
    } finally {
      await provider.close();
      await env.close();
    }
  });
});
