import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ComputeService,
  createComputeService,
  type MasterSpec,
  type NodeMetadata,
  type ProgressEvent,
  RunNodesError,
  VmkitError,
} from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '../../test-support/private-libvirtd.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { type DomainLifecycleEvent, DomainEventType as E } from '../client/domain-events.js';
import { DomainState } from '../client/domain-procedures.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { libvirtProvider } from './libvirt-provider.js';

// libvirtd restarted (SIGTERM, then started again) in the middle of vmkit's calls, at points
// chosen by observed states (a lifecycle event, a progress event), on a private daemon of this
// file's own (test-support/private-libvirtd.ts): the machine's shared daemon is never touched.

const prefix = runPrefix('x');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-chaos-'));
const leaseDir = join(dir, 'leases');
const spec = testGuestMasterSpec('chaos-guest');
/** Built once per case below, each under its own image (so each case builds). */
const uploadSpec = testGuestMasterSpec('chaos-upload');
const commitSpec = testGuestMasterSpec('chaos-commit');
const killSpec = testGuestMasterSpec('chaos-kill');
/** The test guest with one post-install step: its build boots the master once more. */
const postSpec: MasterSpec = {
  ...testGuestMasterSpec('chaos-post'),
  postInstall: [{ name: 'mark', run: 'echo chaos > /etc/vmkit-chaos' }],
};
const template = { inboundPorts: [80], userData: '#!/bin/sh\necho chaos\n' };

let daemon: PrivateLibvirtd;
/** A client of the test's own, watching lifecycle events across the restarts. */
let watcher: LibvirtClient;
const events: DomainLifecycleEvent[] = [];
const waiters = new Set<() => void>();
let compute: ComputeService;

/** Resolves on the first item added to `list` from now on that `match` accepts. */
function nextIn<T>(list: readonly T[], match: (item: T) => boolean): Promise<T> {
  const from = list.length;
  return new Promise((resolve) => {
    const check = () => {
      const hit = list.slice(from).find(match);
      if (hit === undefined) return;
      waiters.delete(check);
      resolve(hit);
    };
    waiters.add(check);
  });
}

/** Resolves on the first lifecycle event (from now on) that `match` accepts. */
const nextEvent = (match: (e: DomainLifecycleEvent) => boolean) => nextIn(events, match);

/** The progress events of the calls, and who waits on them. */
const progress: ProgressEvent[] = [];
const onProgress = (e: ProgressEvent) => {
  progress.push(e);
  for (const w of [...waiters]) w();
};

/** Resolves on the first progress event (from now on) that `match` accepts. */
const nextProgress = (match: (e: ProgressEvent) => boolean) => nextIn(progress, match);

/**
 * Runs `call`, restarting libvirtd when `trigger` resolves; gives the call's outcome (its value or
 * what it threw) once the restart is over. Fails if the call ended before the trigger came: a
 * case whose fault never happened proves nothing.
 */
async function restartDuring<T>(trigger: Promise<unknown>, call: () => Promise<T>): Promise<T | unknown> {
  return (await restartTimed(trigger, call)).outcome;
}

/**
 * {@link restartDuring}, also giving how many progress events had come when the daemon had
 * exited (`downAt`), and whether the call was still running then (`downDuringCall`).
 */
async function restartTimed<T>(
  trigger: Promise<unknown>,
  call: () => Promise<T>,
): Promise<{ outcome: T | unknown; downAt: number; downDuringCall: boolean }> {
  let restarted: Promise<void> | undefined;
  let downAt = -1;
  let running = true;
  let downDuringCall = false;
  void trigger.then(() => {
    restarted = daemon.stop().then(() => {
      downAt = progress.length;
      downDuringCall = running;
      return daemon.start();
    });
  });
  const outcome = await call().catch((e: unknown) => e);
  running = false;
  expect(restarted, 'libvirtd was restarted while the call ran').toBeDefined();
  await restarted;
  return { outcome, downAt, downDuringCall };
}

const ours =
  (kind: number, part = '') =>
  (e: DomainLifecycleEvent) =>
    e.event === kind && e.domain.name.startsWith(`${prefix}${part}`);

/** The nodes' domains, volumes and port leases now, read from the daemon and the lease folder. */
async function state(): Promise<{ domains: string[]; nodeVolumes: string[]; leaseOwners: string[] }> {
  const inv = await daemon.inventory(prefix);
  // readdirSync throws when the folder does not exist: an empty list means no lease.
  const leaseOwners = readdirSync(leaseDir)
    .filter((f) => f.endsWith('.lease'))
    .map((f) => (JSON.parse(readFileSync(join(leaseDir, f), 'utf8')) as { owner: string }).owner)
    .map((o) => o.slice(o.lastIndexOf('/') + 1))
    .sort();
  return {
    domains: inv.domains,
    nodeVolumes: inv.volumes.filter((v) => !v.startsWith(`${prefix}m-`)),
    leaseOwners,
  };
}

/**
 * Checks that `outcome` (the nodes returned, or the RunNodesError thrown) is the truth: exactly
 * the nodes it reports exist (domains, their disk and config drive, one port lease each), those
 * returned as created run, and nothing of a node reported failed is left.
 */
async function expectTruthful(outcome: NodeMetadata[] | unknown, count: number): Promise<NodeMetadata[]> {
  let created: NodeMetadata[];
  let stranded: readonly NodeMetadata[] = [];
  if (Array.isArray(outcome)) created = outcome;
  else {
    expect(outcome).toBeInstanceOf(RunNodesError);
    const error = outcome as RunNodesError;
    created = [...error.nodes];
    stranded = error.stranded ?? [];
    expect(created.length + error.errors.length).toBe(count);
  }
  const existing = [...created, ...stranded];
  const now = await state();
  expect(now.domains).toEqual(existing.map((n) => n.id).sort());
  // Each node's disk and config drive, and its console log once it ran (no other node's).
  const logs = now.nodeVolumes.filter((v) => v.endsWith('-console.log'));
  expect(now.nodeVolumes.filter((v) => !logs.includes(v))).toEqual(
    existing.flatMap((n) => [`${n.id}-config.iso`, `${n.id}.qcow2`]).sort(),
  );
  expect(logs.filter((v) => !existing.some((n) => v === `${n.id}-console.log`))).toEqual([]);
  expect(now.leaseOwners).toEqual(existing.map((n) => n.name).sort());
  for (const n of created) {
    const { state: s } = await watcher.domains.getState(await watcher.domains.lookupByName(n.id));
    expect(s, `${n.name} is returned as created`).toBe(DomainState.RUNNING);
    expect(Object.values(n.hostPorts)[0]).toBeGreaterThan(0);
  }
  return existing;
}

/** The volumes of image `id`'s builds now (masters, and any leftover media or logs). */
async function buildVolumes(id: string): Promise<string[]> {
  return (await daemon.inventory(prefix)).volumes.filter((v) => v.includes(`-vmkit-${id}-`));
}

/**
 * Checks a build's outcome is the truth: built, the image is available and only its master's
 * volumes (disk, kernel, initrd of one master) are left; failed, the error is retryable and
 * nothing of the build is left. No domain is left either way, and the next `ensureImage` on the
 * same service gives the image (built again after a failure).
 */
async function expectBuildTruthful(id: string, outcome: unknown): Promise<void> {
  expect((await daemon.inventory(prefix)).domains).toEqual([]);
  const masterOnly = (volumes: string[]) => {
    const master = /^(.*m-vmkit-[^.]+)\.qcow2$/.exec(volumes.find((v) => v.endsWith('.qcow2')) ?? '')?.[1];
    expect(master, `a master disk among ${volumes.join(', ')}`).toBeDefined();
    expect(volumes).toEqual([`${master}.initrd`, `${master}.qcow2`, `${master}.vmlinuz`]);
  };
  if (outcome instanceof Error) {
    console.info(`build of ${id} failed: ${outcome.message}`);
    expect(VmkitError.is(outcome) && outcome.retryable, `a retryable error: ${String(outcome)}`).toBe(true);
    expect(await buildVolumes(id)).toEqual([]);
  } else {
    expect(outcome).toMatchObject({ status: 'available' });
    masterOnly(await buildVolumes(id));
  }
  const again = await compute.ensureImage(id);
  expect(again.status).toBe('available');
  expect((await daemon.inventory(prefix)).domains).toEqual([]);
  masterOnly(await buildVolumes(id));
}

/** Destroys everything of the group through the same compute service, and checks nothing is left. */
async function destroyAllAndCheck(): Promise<void> {
  await compute.destroyNodesMatching(() => true);
  expect(await state()).toEqual({ domains: [], nodeVolumes: [], leaseOwners: [] });
}

describe('libvirtd restarted in the middle of vmkit calls (private daemon)', () => {
  beforeAll(async () => {
    daemon = await startPrivateLibvirtd('chaos');
    compute = await createComputeService({
      provider: libvirtProvider({
        uri: daemon.uri,
        pool: daemon.pool,
        poolPath: daemon.poolPath,
        namePrefix: prefix,
      }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [spec, uploadSpec, commitSpec, killSpec, postSpec],
      ports: { leaseDir },
    });
  }, 120_000);

  // A new watcher for each case, so that a case's trigger does not depend on an earlier restart
  // (the last case checks that a listener outlives one).
  beforeEach(async () => {
    watcher = await LibvirtClient.connect(daemon.uri);
    await watcher.onDomainLifecycle((e) => {
      events.push(e);
      for (const w of [...waiters]) w();
    });
  });
  afterEach(async () => {
    await watcher.close();
  });

  afterAll(async () => {
    await compute?.close();
    await daemon?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('a master build survives a restart while its installer runs; nothing of the build is left', async () => {
    const image = await restartDuring(nextEvent(ours(E.STARTED, 'install-')), () =>
      compute.ensureImage(spec.id, { onProgress }),
    );
    expect(image).toMatchObject({ status: 'available' });
    const inv = await daemon.inventory(prefix);
    // Only the master's volumes: no installer domain, no installer media.
    expect(inv.domains).toEqual([]);
    expect(inv.volumes.length).toBeGreaterThan(0);
    expect(inv.volumes.every((v) => v.startsWith(`${prefix}m-`))).toBe(true);
  }, 120_000);

  it('a master build with a restart while its kernel is uploaded: truthful outcome, nothing left, the next build works', async () => {
    const id = uploadSpec.id;
    const uploading = new RegExp(`^uploading \\S+-vmkit-${id}-\\S+\\.vmlinuz: [1-9]`);
    const { outcome, downAt } = await restartTimed(
      nextProgress((p) => uploading.test(p.message ?? '')),
      () => compute.ensureImage(id, { onProgress }),
    );
    // The daemon was down before the installer was defined: the restart fell among the uploads.
    const defined = progress.findIndex((p) => p.imageId === id && p.message === 'installer defined');
    expect(downAt).toBeGreaterThan(0);
    if (defined >= 0) expect(downAt).toBeLessThanOrEqual(defined);
    // The kernel and initrd are local files: an interrupted upload is sent again, the build completes.
    expect(outcome, String(outcome)).toMatchObject({ status: 'available' });
    await expectBuildTruthful(id, outcome);
  }, 150_000);

  it('a master build with a restart during its post-install boot: truthful outcome, nothing left, the next build works', async () => {
    const id = postSpec.id;
    const { outcome, downAt } = await restartTimed(nextEvent(ours(E.STARTED, `post-vmkit-${id}-`)), () =>
      compute.ensureImage(id, { onProgress }),
    );
    // The daemon was down before the post-install boot ended.
    const ended = progress.findIndex(
      (p) => p.imageId === id && /^post-install: \d+ step/.test(p.message ?? ''),
    );
    expect(downAt).toBeGreaterThan(0);
    if (ended >= 0) expect(downAt).toBeLessThanOrEqual(ended);
    await expectBuildTruthful(id, outcome);
  }, 150_000);

  it("a master build with a restart right at the master's commit: truthful outcome, nothing left, the next build works", async () => {
    const id = commitSpec.id;
    // The last step done: what follows is `finish` (the installer domain removed, the master
    // volumes kept) and the record saved.
    const lastStepDone = nextProgress(
      (p) => p.imageId === id && p.stepIndex === p.stepCount && p.stepOutcome !== undefined,
    );
    const { outcome, downDuringCall } = await restartTimed(lastStepDone, () =>
      compute.ensureImage(id, { onProgress }),
    );
    // The daemon had exited before the build returned: the commit ran against a restarting daemon.
    expect(downDuringCall, 'libvirtd was down before the build ended').toBe(true);
    await expectBuildTruthful(id, outcome);
  }, 150_000);

  it('a master build whose installer QEMU is killed ends at once, naming the cause, and leaves nothing', async () => {
    const id = killSpec.id;
    const installer = nextEvent(ours(E.STARTED, `install-vmkit-${id}-`));
    // Installing for a second or more (the watch's progress says so).
    const running = nextProgress((p) => p.imageId === id && /^installer running [1-9]/.test(p.message ?? ''));
    let killedAt = 0;
    void Promise.all([installer, running]).then(([e]) => {
      // The pid file libvirt writes for the QEMU it started (this daemon's /run/libvirt/qemu).
      const pid = Number(readFileSync(join(daemon.dir, 'run', 'qemu', `${e.domain.name}.pid`), 'utf8'));
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGKILL');
      killedAt = Date.now();
    });
    const error = await compute.ensureImage(id, { onProgress }).catch((e: unknown) => e);
    expect(killedAt, 'the installer was killed during the build').toBeGreaterThan(0);
    // At once: well within the install timeout, a few seconds after the kill.
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(String(error)).toMatch(
      /installer \S+install-vmkit-chaos-kill-\S+ (crashed|stopped: QEMU failed|stopped unexpectedly destroyed)/,
    );
    expect((await daemon.inventory(prefix)).domains).toEqual([]);
    expect(await buildVolumes(id)).toEqual([]);
  }, 120_000);

  const triggers: Array<[string, () => Promise<unknown>]> = [
    [
      'the first node disk created',
      () => nextProgress((p) => p.phase === 'clone' && /clone created/.test(p.message ?? '')),
    ],
    ['the first node domain defined', () => nextEvent(ours(E.DEFINED, 'c'))],
    ['the first node started', () => nextEvent(ours(E.STARTED, 'c'))],
  ];

  it.each(triggers)(
    'createNodesInGroup(4) with a restart at %s: truthful outcome, nothing left, the service goes on',
    async (_label, when) => {
      const outcome = await restartDuring(when(), () =>
        compute.createNodesInGroup('c', 4, template, { onProgress }),
      );
      await expectTruthful(outcome, 4);
      // The same service, without being made again: a node more, then everything destroyed.
      const more = await compute.createNodesInGroup('c', 1, template);
      expect(more).toHaveLength(1);
      await destroyAllAndCheck();
    },
    150_000,
  );

  it('destroyNodesMatching with a restart at the first node undefined: every node gone, the service goes on', async () => {
    const nodes = await compute.createNodesInGroup('d', 4, template);
    const outcome = await restartDuring(nextEvent(ours(E.UNDEFINED, 'd')), () =>
      compute.destroyNodesMatching(() => true),
    );
    expect(Array.isArray(outcome), `destroyNodesMatching failed: ${String(outcome)}`).toBe(true);
    expect((outcome as NodeMetadata[]).map((n) => n.id).sort()).toEqual(nodes.map((n) => n.id).sort());
    expect(await state()).toEqual({ domains: [], nodeVolumes: [], leaseOwners: [] });
    const again = await compute.createNodesInGroup('d', 1, template);
    await expectTruthful(again, 1);
    await destroyAllAndCheck();
  }, 150_000);

  it('a lifecycle listener hears events after a restart without any call of its own', async () => {
    const reconnects = watcher.reconnects;
    await daemon.restart();
    // The watcher comes back on its own (its listener registered again before the count moves).
    while (watcher.reconnects === reconnects) await new Promise((r) => setTimeout(r, 10));
    // Made through another connection: the watcher itself is not called.
    const defined = nextEvent(ours(E.DEFINED, 'ev'));
    const other = await LibvirtClient.connect(daemon.uri);
    try {
      const dom = await other.domains.defineXml(
        `<domain type='qemu'><name>${prefix}ev</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`,
      );
      await defined;
      expect(watcher.reconnects).toBeGreaterThan(reconnects);
      await other.domains.undefine(dom, 0);
    } finally {
      await other.close();
    }
  }, 60_000);
});
