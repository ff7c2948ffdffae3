import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloneSpec } from '@vmkit/core/spi';
import { isNoSpaceError, runMasterBuild, type VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isoMasterSpec,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../../test-support/vbox-env.js';

// The early free-space check on the machine folder: a small tmpfs mounted as root holds it, and
// a ballast file beside it leaves only a few MiB free.

const MiB = 1024 * 1024;

describe('VirtualBox: the machine folder has too little free space', () => {
  let env: VboxTestEnv;
  const mnt = mkdtempSync(join(tmpdir(), 'vmkit-vbox-tmpfs-'));
  const folder = join(mnt, 'machines');
  const ballast = join(mnt, 'ballast');
  const leaveFree = (bytes: number) => {
    rmSync(ballast, { force: true });
    const s = statfsSync(mnt);
    writeFileSync(ballast, Buffer.alloc(Math.max(0, s.bavail * s.bsize - bytes)));
  };
  const machineFiles = () => readdirSync(folder, { recursive: true }).map(String).sort();

  beforeAll(async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m,mode=0700', 'tmpfs', mnt]);
    env = await vboxTestEnv();
  });
  afterAll(async () => {
    await env?.close();
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  function expectNoSpace(error: unknown): VmkitError {
    expect(isNoSpaceError(error), String(error)).toBe(true);
    const e = error as VmkitError;
    expect(e.message).toMatch(
      new RegExp(`^disk full on machine folder ${folder}: refused before writing anything`),
    );
    expect(e.details).toMatchObject({ field: 'machineFolder', machineFolder: folder });
    expect(e.details.neededBytes as number).toBeGreaterThan(e.details.freeBytes as number);
    return e;
  }

  it('refuses a build, then a linked clone, before anything is made; both work once space is freed', async () => {
    const provider = testProvider(env, { machineFolder: folder });
    const spec = await isoMasterSpec(env, 'tight');
    leaveFree(4 * MiB);
    expectNoSpace(await runMasterBuild(provider, spec, 'tight').catch((e: unknown) => e));
    expect(machineFiles()).toEqual([]);
    expect(await provider.listNodes()).toEqual([]);

    rmSync(ballast);
    const master = await runMasterBuild(provider, spec, 'tight');
    const made = machineFiles();
    const clone: CloneSpec = {
      name: 'tight-node',
      group: 'g',
      imageId: 'tight',
      master,
      hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
      network: { nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:00:43', portForwards: [] }] },
      linked: true,
      tags: [],
      userMetadata: {},
    };
    leaveFree(4 * MiB);
    expectNoSpace(await provider.cloneNode(clone).catch((e: unknown) => e));
    expect(machineFiles()).toEqual(made);
    expect(await provider.listNodes()).toEqual([]);

    rmSync(ballast);
    const node = await provider.cloneNode(clone);
    expect((await provider.listNodes()).map((n) => n.id)).toEqual([node.id]);
    await provider.destroyNode(node.id);
    await provider.deleteMaster(master);
    await provider.close();
  });
});
