import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createComputeService, type MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { bootIsoCache, readIso9660 } from '@vmkit/imaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingBootIsoCache } from '../../../imaging/src/boot-iso/counting-boot-iso-cache.fixture.js';
import { simOf, testProvider, type VboxTestEnv, vboxTestEnv } from '../../test-support/vbox-env.js';

// The boot ISO fixture (isolinux for BIOS, GRUB in a FAT EFI image) of scripts/test.d/30-boot-isos.sh.
const REPO = join(import.meta.dirname, '../../../..');
const FIXTURE = join(process.env.VMKIT_BOOT_ISO_DIR ?? join(REPO, '.vmkit', 'boot-isos'), 'isolinux.iso');
const PARAMS = 'vmkit.cache=vbox7';

describe('the boot ISO cache on VirtualBox (the simulator)', () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    env = await vboxTestEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  const spec = (id: string, type: 'bootIso' | 'iso'): MasterSpec => ({
    id,
    os: { family: 'linux', version: 'live', arch: 'x86_64' },
    source: { type, path: FIXTURE, kernelParams: PARAMS },
    hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
  });
  const service = (name: string, images: MasterSpec[], extra = {}) =>
    createComputeService({
      provider: testProvider(env, { namePrefix: `${env.prefix}${name}-`, ...extra }),
      store: fileSystemBlobStore({ root: join(env.folder, `store-${name}`) }),
      images,
      ports: { leaseDir: join(env.folder, 'leases') },
    });

  it("remasters once for a bootIso master and an installer with the same ISO and parameters, through the caller's cache", async () => {
    const cache = countingBootIsoCache(bootIsoCache({ dir: join(env.folder, 'cache'), maxBytes: 1 << 30 }));
    await using compute = await service('given', [spec('live-a', 'bootIso'), spec('inst-b', 'iso')], {
      bootIsoCache: cache,
    });
    await compute.ensureImage('live-a');
    await compute.ensureImage('inst-b');
    expect(cache.gets).toBe(2);
    expect(cache.remastered).toBe(1);
    const cached = readdirSync(join(env.folder, 'cache')).filter((f) => f.endsWith('.iso'));
    expect(cached).toHaveLength(1);
    // The bootIso master's ISO is the cached copy (one file, two names), with the parameters in it.
    const live = readdirSync(join(env.folder, 'machines')).find((f) => f.endsWith('-boot.iso')) ?? '';
    const ownIso = join(env.folder, 'machines', live);
    expect(statSync(ownIso).ino).toBe(statSync(join(env.folder, 'cache', cached[0] ?? '')).ino);
    const cfg = await (await readIso9660(ownIso)).readFile('isolinux/isolinux.cfg');
    expect(new TextDecoder().decode(cfg)).toContain(PARAMS);
    // Only the bootIso master's ISO stays registered: the installer's copy was closed after the install.
    const dvds = simOf(env)
      .media()
      .filter((m) => m.deviceType === 'DVD');
    expect(dvds.map((m) => m.location)).toEqual([ownIso]);
  });

  it('with no cache given, a second bootIso master of the same ISO is the first one remastered (its own cache)', async () => {
    await using compute = await service('own', [spec('live-c', 'bootIso'), spec('live-d', 'bootIso')]);
    await compute.ensureImage('live-c');
    await compute.ensureImage('live-d');
    const isos = readdirSync(join(env.folder, 'machines'))
      .filter((f) => f.startsWith(`${env.prefix}own-`) && f.endsWith('-boot.iso'))
      .map((f) => statSync(join(env.folder, 'machines', f)));
    expect(isos).toHaveLength(2);
    expect(isos[0]?.ino).toBe(isos[1]?.ino);
    expect(isos[0]?.nlink).toBeGreaterThanOrEqual(2);
  });
});
