import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createComputeService, type ProgressEvent } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, afterEach, beforeAll, describe, expect, vi } from 'vitest';
import type { FixtureChild } from '../../../core/src/compute/process-fixture.fixture.js';
import { spawnProviderBuild } from '../../../core/src/compute/provider-build.fixture.js';
import {
  isoMasterSpec,
  itOnSimulator,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../test-support/vbox-env.js';

/**
 * The build lease TTL: long enough that the taker's start-up (start-up recovery included) runs
 * well inside the dead holder's last lease on a loaded machine, so only the takeover can remove
 * what the dead build left.
 */
const TTL = 8_000;

describe('a lapsed build lease taken over on VirtualBox (the simulator)', () => {
  let env: VboxTestEnv;
  let children: FixtureChild[] = [];
  beforeAll(async () => {
    // Installers run long enough for the builder to be killed while its installer runs.
    env = await vboxTestEnv({ behaviour: { installerRunMs: 3_000 } });
  });
  afterEach(() => {
    for (const c of children) c.child.kill('SIGKILL');
    children = [];
  });
  afterAll(async () => {
    await env?.close();
  });

  const machines = () => join(env.folder, 'machines');
  /** Every file and folder under the machine folder, as paths relative to it. */
  const entries = () => readdirSync(machines(), { recursive: true, encoding: 'utf8' }).sort();

  itOnSimulator(
    'the service that takes over the lease of a builder killed mid-install removes what it left, without a restart',
    async () => {
      const sim = simOf(env);
      const spec = await isoMasterSpec(env, 'vbox-takeover');
      // The builder: a process of its own on the simulator, which it reaches over HTTP as vboxwebsrv.
      const dead = spawnProviderBuild({
        module: '@vmkit/provider-virtualbox',
        factory: 'virtualBoxProvider',
        options: { ...env.options() },
        store: join(env.folder, 'store'),
        leases: join(env.folder, 'leases'),
        spec,
        ttlMs: TTL,
      });
      children.push(dead);
      // Observed state, not a sleep: the dead build's master machine is registered and its installer runs.
      const head = `${env.prefix}m-`;
      const installing = () => sim.machines().find((m) => m.name.startsWith(head) && m.state === 'Running');
      await Promise.race([
        vi.waitFor(() => expect(installing()).toBeDefined(), { timeout: 60_000, interval: 5 }),
        dead.exited.then((e) => Promise.reject(new Error(`the builder exited first: ${e.stderr}`))),
      ]);
      dead.child.kill('SIGKILL');
      expect((await dead.exited).signal).toBe('SIGKILL');
      const deadMachine = installing() ?? sim.machines().find((m) => m.name.startsWith(head));
      const deadName = deadMachine?.name as string;
      const masterName = deadName.slice(head.length);
      // What the dead build left: its machine in VirtualBox's registry, its disk as a medium, its files.
      const deadMedia = sim.media().filter((m) => m.location.includes(masterName));
      expect(deadMedia.some((m) => m.deviceType === 'HardDisk' && m.file)).toBe(true);
      const deadEntries = entries().filter((e) => e.includes(masterName));
      expect(deadEntries.some((e) => e.endsWith('.vdi'))).toBe(true);
      expect(deadMachine).toMatchObject({ registered: true, state: 'Running' });

      // A second service, started at once (while the dead builder's lease is live), builds.
      await using taker = await createComputeService({
        provider: testProvider(env),
        store: fileSystemBlobStore({ root: join(env.folder, 'store') }),
        images: [spec],
        ports: { leaseDir: join(env.folder, 'leases'), probe: false },
        buildLease: { ttlMs: TTL },
      });
      const messages: string[] = [];
      const image = await taker.ensureImage(spec.id, {
        onProgress: (e: ProgressEvent) => messages.push(String(e.message)),
      });
      expect(image.status).toBe('available');
      // It waited for the live lease, so its start-up recovery could not have removed the dead build's artefacts.
      expect(messages.some((m) => m.startsWith('waiting for the build lease held by'))).toBe(true);
      expect(messages).toContainEqual(
        expect.stringMatching(`artefact\\(s\\) of the lapsed build ${masterName}$`),
      );

      // Once it has built, nothing of the dead build remains: not in the registry, not among the media, not on disk.
      expect(sim.machines().map((m) => m.name)).not.toContain(deadName);
      expect(sim.media().filter((m) => m.location.includes(masterName))).toEqual([]);
      expect(entries().filter((e) => e.includes(masterName))).toEqual([]);
      // Only the taker's own master is left.
      const masters = sim.machines().filter((m) => m.name.startsWith(head));
      expect(masters).toHaveLength(1);
      expect(masters[0]?.name).not.toBe(deadName);

      // The image deleted, nothing of the prefix remains.
      await taker.deleteImage(spec.id);
      expect(sim.machines().filter((m) => m.name.startsWith(env.prefix))).toEqual([]);
      expect(sim.media().filter((m) => m.location.startsWith(machines()))).toEqual([]);
      expect(entries().filter((e) => e.includes(env.prefix))).toEqual([]);
      expect(sim.rejections).toEqual([]);
    },
    120_000,
  );
});
