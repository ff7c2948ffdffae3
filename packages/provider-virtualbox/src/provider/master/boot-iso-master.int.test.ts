import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MasterSpec } from '@vmkit/core';
import { runMasterBuild, VmkitError } from '@vmkit/core/spi';
import { readIso9660 } from '@vmkit/imaging';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testProvider, type VboxTestEnv, vboxTestEnv } from '../../../test-support/vbox-env.js';
import type { VboxMasterData } from './master-build.js';

// Boot ISO masters and installer kernel parameters on VirtualBox, against the simulator, with a
// real bootable ISO (isolinux for BIOS, GRUB in a FAT EFI image) built by scripts/test.d/30-boot-isos.sh.

const REPO = join(import.meta.dirname, '../../../../..');
const FIXTURES = process.env.VMKIT_BOOT_ISO_DIR ?? join(REPO, '.vmkit', 'boot-isos');
const FIXTURE = join(FIXTURES, 'isolinux.iso');
const MARKER = 'vmkit.vbox=live42';
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const text = async (iso: string, path: string) =>
  new TextDecoder().decode(await (await readIso9660(iso)).readFile(path));

describe('VirtualBox boot ISO masters and installer kernel parameters', () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    await promisify(execFile)('bash', [join(REPO, 'scripts/test.d/30-boot-isos.sh')], { timeout: 240_000 });
    env = await vboxTestEnv();
  }, 300_000);
  afterAll(async () => {
    await env?.close();
  });

  const bootIsoSpec = (id: string, extra: Partial<MasterSpec> = {}): MasterSpec => ({
    id,
    os: { family: 'linux', version: 'live', arch: 'x86_64' },
    source: { type: 'bootIso', path: FIXTURE, kernelParams: MARKER },
    ...extra,
  });

  it('builds a bootIso master (remastered, a DVD medium), boots a live node from it with its config drive; destroy keeps the ISO, deleting the master removes it', async () => {
    const before = sha(FIXTURE);
    const provider = testProvider(env);
    await provider.init();
    expect((await provider.capabilities()).sources).toContain('bootIso');
    const ref = await runMasterBuild(provider, bootIsoSpec('live'), 'live');
    const data = ref.data as unknown as VboxMasterData;
    expect(data.ownsIso).toBe(true);
    expect(data.bootIso).not.toBe(FIXTURE);
    const iso = data.bootIso ?? '';
    expect(await text(iso, 'isolinux/isolinux.cfg')).toContain(MARKER);
    expect(env.sim?.media().find((m) => m.location === iso)?.deviceType).toBe('DVD');
    expect(env.sim?.machines().map((m) => m.name)).toEqual([]);
    expect(await provider.mastersExist([ref])).toEqual([true]);

    const node = await provider.cloneNode({
      name: 'live-1',
      group: 'g',
      imageId: 'live',
      master: ref,
      hardware: { id: 'small', cores: 2, ramMiB: 384, diskGiB: 1 },
      network: {
        nics: [
          {
            slot: 0,
            attachment: 'nat',
            mac: '52:54:00:12:34:56',
            portForwards: [
              { name: 'tcp-22', protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 42_022, guestPort: 22 },
            ],
          },
        ],
      },
      linked: true,
      tags: [],
      userMetadata: {},
      configDrive: {
        format: 'nocloud',
        instanceId: 'live-1',
        hostname: 'live-1',
        userData: '#cloud-config\n',
      },
    });
    expect(node.linkedClone).toBe(false);
    await provider.startNode(node.id);
    // A live system with no disk boots as a system, not as an installer (which would power itself
    // off and never run cloud-init): its cloud-init pass read the node's drive, and it runs on.
    const info = () => env.sim?.machines().find((m) => m.name === node.id);
    await vi.waitFor(() => expect(info()?.cloudInitPasses).toBe(1), { timeout: 30_000, interval: 5 });
    const machine = info();
    expect(machine?.cloudInstances).toEqual(['live-1']);
    expect(machine).toMatchObject({ state: 'Running', memoryMB: 384, cpus: 2 });
    expect(machine?.bootMedium).toBe(iso);
    expect(await text(machine?.bootMedium ?? '', 'isolinux/isolinux.cfg')).toContain(MARKER);
    const drive = machine?.media.find((m) => m !== iso) ?? '';
    expect(machine?.media).toHaveLength(2);
    expect((await readIso9660(drive)).volumeId.toLowerCase()).toBe('cidata');
    expect(machine?.redirects).toEqual([{ slot: 0, name: 'tcp-22', hostPort: 42_022, guestPort: 22 }]);
    expect((await provider.getNode(node.id))?.status).toBe('running');

    // A node still uses the ISO: the master cannot go.
    await expect(provider.deleteMaster(ref)).rejects.toMatchObject({ code: 'CONFLICT' });
    await provider.destroyNode(node.id);
    expect(env.sim?.machines().map((m) => m.name)).toEqual([]);
    expect(existsSync(drive)).toBe(false);
    expect(existsSync(iso)).toBe(true);
    expect(env.sim?.media().map((m) => m.location)).toEqual([iso]);

    await provider.deleteMaster(ref);
    expect(existsSync(iso)).toBe(false);
    expect(env.sim?.media()).toEqual([]);
    expect(await provider.mastersExist([ref])).toEqual([false]);
    expect(sha(FIXTURE)).toBe(before);
    expect(env.sim?.rejections ?? []).toEqual([]);
    await provider.close();
  });

  it('a bootIso node whose DVD attach fails is rolled back: no machine, no config drive, the master ISO kept', async () => {
    const provider = testProvider(env);
    const ref = await runMasterBuild(provider, bootIsoSpec('rollback'), 'rollback');
    const iso = (ref.data as unknown as VboxMasterData).bootIso ?? '';
    env.sim?.injectFault({ operation: 'IMachine_attachDevice', nth: 2 });
    const error = await provider
      .cloneNode({
        name: 'live-fail',
        group: 'g',
        imageId: 'rollback',
        master: ref,
        hardware: { id: 'small', cores: 1, ramMiB: 256, diskGiB: 1 },
        network: { nics: [] },
        linked: false,
        tags: [],
        userMetadata: {},
        configDrive: { format: 'nocloud', instanceId: 'live-fail' },
      })
      .catch((e: unknown) => e);
    expect(VmkitError.is(error, 'PROVIDER')).toBe(true);
    expect(env.sim?.machines()).toEqual([]);
    expect(env.sim?.media().map((m) => m.location)).toEqual([iso]);
    expect(readdirSync(join(env.folder, 'machines')).filter((f) => f.includes('live-fail-config'))).toEqual(
      [],
    );
    expect(existsSync(iso)).toBe(true);
    await provider.deleteMaster(ref);
    expect(existsSync(iso)).toBe(false);
    await provider.close();
  });

  it('a bootIso master without kernelParams registers the user ISO as it is and never deletes it', async () => {
    const provider = testProvider(env);
    const spec = bootIsoSpec('plain');
    const ref = await runMasterBuild(
      provider,
      { ...spec, source: { type: 'bootIso', path: FIXTURE } },
      'plain',
    );
    expect(ref.data).toMatchObject({ bootIso: FIXTURE, ownsIso: false });
    await provider.deleteMaster(ref);
    expect(existsSync(FIXTURE)).toBe(true);
    expect(env.sim?.media()).toEqual([]);
    expect(env.sim?.rejections ?? []).toEqual([]);
    await provider.close();
  });

  it('refuses postInstall on a bootIso master with UNSUPPORTED naming postInstall, leaving nothing', async () => {
    const provider = testProvider(env);
    const spec = bootIsoSpec('post', { postInstall: [{ name: 'x', run: 'true' }] } as Partial<MasterSpec>);
    const error = await runMasterBuild(provider, spec, 'post').catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toContain('postInstall');
    expect(env.sim?.media()).toEqual([]);
    expect(env.sim?.machines()).toEqual([]);
    await provider.close();
  });

  it('an iso master with kernelParams installs from a DVD that carries them in its boot config', async () => {
    const provider = testProvider(env);
    const seen: string[] = [];
    const copy = join(env.folder, 'installer-seen.iso');
    // Copies the DVD the master boots while it is attached (the build removes it afterwards).
    const watch = setInterval(() => {
      for (const m of env.sim?.machines() ?? [])
        if (m.bootMedium?.endsWith('.iso') && m.state === 'Running' && !seen.includes(m.bootMedium)) {
          copyFileSync(m.bootMedium, copy);
          seen.push(m.bootMedium);
        }
    }, 5);
    try {
      const ref = await runMasterBuild(
        provider,
        {
          id: 'inst',
          os: { family: 'linux', version: 'inst', arch: 'x86_64' },
          source: { type: 'iso', path: FIXTURE, kernelParams: MARKER },
          hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
        },
        'inst',
      );
      clearInterval(watch);
      const installer = [...new Set(seen)];
      expect(installer).toHaveLength(1);
      expect(installer[0]).not.toBe(FIXTURE);
      // The remastered installer is gone after the build, so its content was read while attached.
      expect(existsSync(installer[0] ?? '')).toBe(false);
      expect(await text(copy, 'isolinux/isolinux.cfg')).toContain(MARKER);
      expect(await text(copy, 'boot/grub/grub.cfg')).toContain(MARKER);
      expect(env.sim?.rejections ?? []).toEqual([]);
      await provider.deleteMaster(ref);
    } finally {
      clearInterval(watch);
    }
    await provider.close();
  });
});
