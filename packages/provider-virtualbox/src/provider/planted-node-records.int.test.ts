// Someone who can drive vboxwebsrv rewrites a node's record (its `vmkit/node` extra data) so that
// destroying the node would delete a file vmkit must keep: the master's disk, another node's
// config drive. Through the public API of @vmkit/core, the node is then not vmkit's: not listed,
// NOT_FOUND with the field named, and nothing it names is deleted.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import * as vbox from 'virtualbox-soap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoMasterSpec, testProvider, type VboxTestEnv, vboxTestEnv } from '../../test-support/vbox-env.js';

describe('planted node records cannot make the VirtualBox provider delete what the node does not own', () => {
  let env: VboxTestEnv;
  let api: { manager: vbox.IWebsessionManager; vbox: vbox.IVirtualBox };
  const service = async () =>
    createComputeService({
      provider: testProvider(env),
      store: fileSystemBlobStore({ root: join(env.folder, 'store') }),
      images: [await isoMasterSpec(env, 'planted-node')],
      ports: { leaseDir: join(env.folder, 'leases') },
    });

  beforeAll(async () => {
    env = await vboxTestEnv();
    const manager = await vbox.connect(env.url);
    api = { manager, vbox: await manager.logon(env.username, env.password) };
  });
  afterAll(async () => {
    await api.manager.logoff(api.vbox);
    await env.close();
  });

  it("a record naming the master's disk or another node's drive as its config drive: both survive", async () => {
    const [a, b] = await (async () => {
      await using compute = await service();
      return await compute.createNodesInGroup('p', 2, { configDrive: true });
    })();
    if (!a || !b) throw new Error('two nodes expected');
    const files = () => readdirSync(join(env.folder, 'machines'));
    const masterDisk = join(
      env.folder,
      'machines',
      files().find((f) => f.endsWith('.vdi') && f.includes('m-')) ?? '',
    );
    const driveOfB = join(env.folder, 'machines', files().find((f) => f.startsWith(`${b.id}-config-`)) ?? '');
    expect(existsSync(masterDisk) && existsSync(driveOfB)).toBe(true);

    const machine = await api.vbox.findMachine(a.id);
    const honest = await machine.getExtraData('vmkit/node');
    for (const victim of [masterDisk, driveOfB]) {
      const record = JSON.parse(honest) as { ext: Record<string, unknown> };
      await machine.setExtraData('vmkit/node', JSON.stringify({ ...record, ext: { configDrive: victim } }));
      // Another process (no memory of having made the node) acts on it.
      await using compute = await service();
      expect((await compute.listNodes()).map((n) => n.id)).toEqual([b.id]);
      expect(await compute.getNode(a.id)).toBeUndefined();
      await expect(compute.startNode(a.id)).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringContaining('node record: ext.configDrive must be'),
      });
      await expect(compute.destroyNode(a.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(existsSync(masterDisk) && existsSync(driveOfB)).toBe(true);
      expect(await api.vbox.findMachine(a.id)).toBeTruthy();
    }

    // The honest record back: the node is vmkit's again and is destroyed with its own drive only.
    await machine.setExtraData('vmkit/node', honest);
    await using compute = await service();
    expect(await compute.destroyNodesMatching(() => true)).toHaveLength(2);
    expect(existsSync(masterDisk)).toBe(true);
    expect(files().filter((f) => f.includes('-config-'))).toEqual([]);
  });
});
