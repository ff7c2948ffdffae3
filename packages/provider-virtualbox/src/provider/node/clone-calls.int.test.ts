import type { CloneSpec } from '@vmkit/core/spi';
import { runMasterBuild } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  isoMasterSpec,
  itOnSimulator,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../../test-support/vbox-env.js';

// The SOAP calls one NAT node costs, counted by the simulator: the clone is configured before it
// is registered (no lock, session machine or saveSettings), and destroy still presses the ACPI
// button first. The figures per node are in bench/virtualbox.bench.ts.

describe('VirtualBox clone round trips', () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    env = await vboxTestEnv();
  });
  afterAll(async () => {
    await env.close();
  });

  itOnSimulator(
    'creates and starts a NAT node in 15 calls without a write lock, and destroys it with the ACPI button first',
    async () => {
      const sim = simOf(env);
      const provider = testProvider(env);
      const master = await runMasterBuild(provider, await isoMasterSpec(env, 'calls'), 'calls');
      const spec = (name: string, port: number): CloneSpec => ({
        name,
        group: 'g',
        imageId: 'calls',
        master,
        hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
        network: {
          nics: [
            {
              slot: 0,
              attachment: 'nat',
              mac: '52:54:00:00:00:42',
              portForwards: [
                { name: 'tcp-22', protocol: 'tcp', hostIp: '127.0.0.1', hostPort: port, guestPort: 22 },
              ],
            },
          ],
        },
        linked: true,
        tags: [],
        userMetadata: {},
      });
      // A first node fills the session pool and the clone-source cache.
      const warm = await provider.cloneNode(spec('warm', 43_001));
      await provider.startNode(warm.id);
      await provider.destroyNode(warm.id);
      sim.resetCounters();
      const node = await provider.cloneNode(spec('counted', 43_002));
      await provider.startNode(node.id);
      const created = Object.fromEntries(sim.calls);
      expect(sim.requestCount).toBe(15);
      expect(created).toMatchObject({
        IVirtualBox_registerMachine: 1,
        IMachine_setExtraData: 1,
        INATEngine_addRedirect: 1,
      });
      for (const op of ['IMachine_lockMachine', 'ISession_getMachine', 'IMachine_saveSettings'])
        expect(created[op]).toBeUndefined();
      sim.resetCounters();
      expect((await provider.getNode(node.id))?.privateAddresses).toEqual(['10.0.2.15']);
      // The machine this provider made needs no lookup: state and guest properties only.
      expect(sim.requestCount).toBe(2);
      sim.resetCounters();
      await provider.destroyNode(node.id);
      expect(Object.fromEntries(sim.calls)).toMatchObject({
        IConsole_powerButton: 1,
        IMachine_unregister: 1,
        IMachine_deleteConfig: 1,
      });
      expect(sim.calls.get('IConsole_powerDown')).toBeUndefined();
      expect(
        sim
          .machines()
          .map((m) => m.name)
          .filter((n) => !n.startsWith(`${env.prefix}m-`)),
      ).toEqual([]);
      expect(sim.rejections).toEqual([]);
      await provider.deleteMaster(master);
      await provider.close();
    },
  );
});
