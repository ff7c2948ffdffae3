import { join } from 'node:path';
import { createComputeService, type MasterSpec, VmkitError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  installerIso,
  itOnSimulator,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../test-support/vbox-env.js';

// hardware.firmware on VirtualBox: IMachine::firmwareType (the simulator keeps it as VirtualBox
// does, refusing values the WSDL's FirmwareType has not got), on masters and on their clones.

describe('VirtualBox hardware.firmware (the simulator)', () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    env = await vboxTestEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  const spec = async (id: string, firmware?: 'bios' | 'efi'): Promise<MasterSpec> => ({
    id,
    os: { family: 'linux', version: 'test', arch: 'x86_64' },
    source: { type: 'iso', path: await installerIso(env.folder) },
    hardware: { cores: 1, ramMiB: 256, diskGiB: 1, ...(firmware ? { firmware } : {}) },
  });

  itOnSimulator(
    'builds EFI masters and clones EFI nodes; BIOS ones stay BIOS; a mismatch is refused',
    async () => {
      const sim = simOf(env);
      await using compute = await createComputeService({
        provider: testProvider(env),
        store: fileSystemBlobStore({ root: join(env.folder, 'store') }),
        images: [await spec('fw-efi', 'efi'), await spec('fw-bios')],
        ports: { leaseDir: join(env.folder, 'leases') },
      });
      const template = (imageId: string, firmware?: 'bios' | 'efi') =>
        compute
          .templateBuilder()
          .imageId(imageId)
          .options(firmware ? { hardware: { firmware } } : {})
          .build();
      const efi = await compute.createNodesInGroup('efi', 2, await template('fw-efi'));
      const [bios] = await compute.createNodesInGroup('bios', 1, await template('fw-bios'));
      const firmwareOf = (name: string) => sim.machines().find((m) => m.name.endsWith(name))?.firmwareType;
      for (const node of efi) {
        expect(node.hardware.firmware).toBe('efi');
        expect(firmwareOf(node.name)).toBe('EFI');
      }
      expect(firmwareOf(bios?.name as string)).toBe('BIOS');
      const masters = sim.machines().filter((m) => m.name.includes('vmkit-fw-'));
      expect(masters.map((m) => [m.name.includes('fw-efi'), m.firmwareType]).sort()).toEqual([
        [false, 'BIOS'],
        [true, 'EFI'],
      ]);
      const error = await compute
        .createNodesInGroup('mix', 1, await template('fw-bios', 'efi'))
        .catch((e: unknown) => e);
      expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toMatch(/^hardware\.firmware/);
    },
  );
});
