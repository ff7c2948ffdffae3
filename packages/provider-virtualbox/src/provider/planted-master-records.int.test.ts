// A writer of the blob store (a shared S3 bucket, a shared folder) plants master records that
// name what vmkit never made: a machine without vmkit's prefix, a host file as the boot ISO vmkit
// "owns". Through the public API of @vmkit/core, start-up, deleteImage and pruneImages must leave
// them alone.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { VmkitError } from '@vmkit/core/spi';
import * as vbox from 'virtualbox-soap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  installerIso,
  isoMasterSpec,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../test-support/vbox-env.js';

const RECORDS = 'vmkit-images';
type Json = Record<string, unknown>;

describe('planted master records cannot make the VirtualBox provider touch what vmkit did not make', () => {
  let env: VboxTestEnv;
  let api: { manager: vbox.IWebsessionManager; vbox: vbox.IVirtualBox };
  const store = () => fileSystemBlobStore({ root: join(env.folder, 'store') });
  const service = (images: MasterSpec[] = []): Promise<ComputeService> =>
    createComputeService({
      provider: testProvider(env),
      store: store(),
      images,
      ports: { leaseDir: join(env.folder, 'leases') },
    });

  /** Whether a machine of that name is registered. */
  async function machineExists(name: string): Promise<boolean> {
    try {
      await api.vbox.findMachine(name);
      return true;
    } catch {
      return false;
    }
  }

  /** Builds the image through the public API, then rewrites its record as a store writer can. */
  async function plant(spec: MasterSpec, rewrite: (record: Json) => Json): Promise<void> {
    {
      await using compute = await service([spec]);
      await compute.ensureImage(spec.id);
    }
    const s = store();
    const name = (await s.list(RECORDS)).items.map((i) => i.name).find((n) => n.endsWith(`/${spec.id}.json`));
    const record = JSON.parse((await (await s.getBlob(RECORDS, name ?? ''))?.text()) ?? '{}') as Json;
    await s.putBlob(RECORDS, name ?? '', JSON.stringify(rewrite(record)));
  }

  /** What an attacker's program does with the service: start up, list, delete, prune. */
  async function actOnEverything(imageIds: string[]): Promise<void> {
    await using compute = await service();
    await compute.listImages();
    for (const id of imageIds) await compute.deleteImage(id, { force: true }).catch(() => undefined);
    await compute.pruneImages().catch(() => undefined);
  }

  beforeAll(async () => {
    env = await vboxTestEnv();
    const manager = await vbox.connect(env.url);
    api = { manager, vbox: await manager.logon(env.username, env.password) };
    // The machine vmkit never made: no prefix, not a master.
    const m = await api.vbox.createMachine('', 'prod-db', [], 'Linux_64', '', '', '', '');
    await m.saveSettings();
    await api.vbox.registerMachine(m);
  });
  afterAll(async () => {
    await api.manager.logoff(api.vbox);
    await env.close();
  });

  it('a record whose master, or whose retired master, is `prod-db`: prod-db survives', async () => {
    const aim = (ref: Json) => ({
      ...ref,
      id: 'prod-db',
      data: { ...(ref.data as Json), machine: 'prod-db' },
    });
    await plant(await isoMasterSpec(env, 'plant-master'), (r) => ({ ...r, master: aim(r.master as Json) }));
    await plant(await isoMasterSpec(env, 'plant-retired'), (r) => ({
      ...r,
      retired: [aim(r.master as Json)],
    }));
    expect(await machineExists('prod-db')).toBe(true);

    await actOnEverything(['plant-master', 'plant-retired']);

    expect(await machineExists('prod-db')).toBe(true);
  });

  it('a record whose boot ISO "owned" by vmkit is a file outside its folders: the file survives', async () => {
    const victims = join(env.folder, 'precious');
    mkdirSync(victims, { recursive: true });
    const victim = join(victims, 'golden.iso');
    copyFileSync(await installerIso(env.folder), victim);
    const before = readFileSync(victim);
    const live = (id: string): MasterSpec => ({
      id,
      os: { family: 'linux', version: 'test', arch: 'x86_64' },
      source: { type: 'bootIso', path: join(env.folder, 'installer.iso') },
    });
    const aim = (ref: Json) => ({ ...ref, data: { ...(ref.data as Json), bootIso: victim, ownsIso: true } });
    await plant(live('plant-iso'), (r) => ({ ...r, master: aim(r.master as Json) }));
    await plant(live('plant-iso-retired'), (r) => ({ ...r, retired: [aim(r.master as Json)] }));

    await actOnEverything(['plant-iso', 'plant-iso-retired']);

    expect(existsSync(victim)).toBe(true);
    expect(readFileSync(victim).equals(before)).toBe(true);
  });

  describe('the provider re-checks before it acts (defence in depth, without core)', () => {
    it('deleteMaster of a reference naming prod-db is CORRUPT naming master.data.machine; prod-db survives', async () => {
      const provider = testProvider(env);
      const ref = {
        id: 'prod-db',
        data: { machine: 'prod-db', snapshot: 'vmkit-base', disk: join(env.folder, 'x.vdi'), ownsDisk: true },
      };
      const error = await provider.deleteMaster(ref).catch((e: unknown) => e);
      await provider.close();
      expect(VmkitError.is(error, 'CORRUPT')).toBe(true);
      expect((error as VmkitError).details.field).toBe('master.data.machine');
      expect(await machineExists('prod-db')).toBe(true);
    });

    it('a clone of a "bootIso" master whose ISO is a host file that is no ISO: refused, no machine made', async () => {
      const secret = join(env.folder, 'precious', 'id_rsa');
      mkdirSync(join(env.folder, 'precious'), { recursive: true });
      writeFileSync(secret, '-----BEGIN OPENSSH PRIVATE KEY-----\n', { mode: 0o600 });
      const provider = testProvider(env);
      const machine = `${env.prefix}m-vmkit-live-0123abcd-beef`;
      const error = await provider
        .cloneNode({
          name: 'leak',
          group: 'leak',
          imageId: 'live',
          master: {
            id: machine,
            data: { machine, snapshot: '', disk: '', ownsDisk: false, bootIso: secret, ownsIso: false },
          },
          hardware: { id: 'small', cores: 1, ramMiB: 256, diskGiB: 1 },
          network: { nics: [] },
          linked: false,
          tags: [],
          userMetadata: {},
        })
        .catch((e: unknown) => e);
      await provider.close();
      expect(VmkitError.is(error, 'CORRUPT')).toBe(true);
      expect((error as VmkitError).message).toMatch(/^master\.data\.bootIso: .* is not an ISO 9660 image/);
      expect(await machineExists(`${env.prefix}leak`)).toBe(false);
    });
  });
});
