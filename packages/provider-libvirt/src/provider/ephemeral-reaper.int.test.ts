import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureChild, spawnFixture } from '../../../core/src/compute/process-fixture.fixture.js';
import {
  lapsed,
  newestLeases,
  OWNER_LEASES,
  untilLapsed,
  untilRenewedPast,
} from '../../test-support/lease-watch.js';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { libvirtProvider } from './libvirt-provider.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const MAIN = fileURLToPath(new URL('../../test-support/ephemeral-main.mjs', import.meta.url));
/** The owners' lease TTL: long enough for a service start to run well inside it on a loaded machine. */
const TTL = 4000;
const prefix = runPrefix('e');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-reaper-'));
const spec = testGuestMasterSpec('reaper-guest');
const leaseDir = join(dir, 'ports');

const store = () => fileSystemBlobStore({ root: join(dir, 'store') });

function service() {
  return {
    provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
    store: store(),
    images: [spec],
    ports: { leaseDir, probe: false },
  };
}
type Done = { ephemeral: string[]; ordinary: string[] };
const portLeases = () =>
  readdirSync(leaseDir)
    .filter((f) => f.endsWith('.lease'))
    .sort();
/** The domains and volumes of these nodes (a node's volumes are named after its domain). */
async function onLibvirt(ids: readonly string[]) {
  const left = await leftovers(URI, prefix, POOL);
  return {
    domains: left.domains.filter((d) => ids.includes(d)).sort(),
    volumes: left.volumes.filter((v) => ids.some((id) => v.startsWith(`${id}-`) || v.startsWith(`${id}.`))),
  };
}

describe('ephemeral nodes of a killed owner process on qemu:///system (test guest)', () => {
  const children: FixtureChild[] = [];
  const common = { VMKIT_URI: URI, VMKIT_POOL: POOL, VMKIT_PREFIX: prefix, VMKIT_LEASES: leaseDir };
  /** An owner process making `ephemeral` ephemeral and `ordinary` ordinary nodes. */
  const run = (ephemeral: number, ordinary: number) => {
    const child = spawnFixture(MAIN, {
      ...common,
      VMKIT_STORE: join(dir, 'store'),
      VMKIT_IMAGES: JSON.stringify([spec]),
      VMKIT_LEASE_TTL_MS: String(TTL),
      VMKIT_EPHEMERAL: String(ephemeral),
      VMKIT_ORDINARY: String(ordinary),
    });
    children.push(child);
    return child;
  };
  const done = async (c: FixtureChild) => (await c.waitFor((l) => 'done' in l)).done as Done;
  beforeAll(async () => {
    // The master is built once here, so the owner processes only clone and start.
    await using compute = await createComputeService(service());
    await compute.ensureImage(spec.id);
  }, 300_000);
  afterAll(async () => {
    for (const { child } of children) child.kill('SIGKILL');
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('after the owner is SIGKILLed and its lease lapses, a new service start removes its 3 ephemeral nodes (domains, volumes, port leases) and leaves the ordinary one', async () => {
    const owner = run(3, 1);
    const { ephemeral, ordinary } = await done(owner);
    expect(ephemeral).toHaveLength(3);
    const before = await onLibvirt([...ephemeral, ...ordinary]);
    expect(before.domains).toHaveLength(4);
    expect(before.volumes.length).toBeGreaterThanOrEqual(4);
    expect(portLeases()).toHaveLength(4);
    const [lease] = await newestLeases(store(), OWNER_LEASES);
    expect(lease).toBeTruthy();
    owner.child.kill('SIGKILL');
    await owner.exited;
    // While the dead owner's lease has not lapsed, a start leaves its nodes alone.
    const last = (await newestLeases(store(), OWNER_LEASES)).find((l) => l.imageId === lease?.imageId);
    await (await createComputeService(service())).close();
    expect(lapsed(last!), 'the start ran after the lease lapsed').toBe(false);
    expect(await onLibvirt(ephemeral)).toEqual({
      domains: [...ephemeral].sort(),
      volumes: before.volumes.filter((v) => !ordinary.some((o) => v.startsWith(o))),
    });
    // Once the store shows the lease lapsed (its last renewal expired), a start reaps them.
    await untilLapsed(store(), OWNER_LEASES, last!.imageId);
    await (await createComputeService(service())).close();
    expect(await onLibvirt(ephemeral)).toEqual({ domains: [], volumes: [] });
    expect(await newestLeases(store(), OWNER_LEASES)).toEqual([]);
    const kept = await onLibvirt(ordinary);
    expect(kept.domains).toEqual(ordinary);
    expect(kept.volumes.length).toBeGreaterThanOrEqual(1);
    expect(portLeases()).toHaveLength(1);
    await using compute = await createComputeService(service());
    await compute.destroyNode(ordinary[0] as string);
  }, 300_000);

  it('a live owner keeps its ephemeral nodes: a second process starts, reaps and prunes after the TTL and touches none', async () => {
    const others = new Set((await newestLeases(store(), OWNER_LEASES)).map((l) => l.imageId));
    const owner = run(1, 0);
    const { ephemeral } = await done(owner);
    const leases = (await newestLeases(store(), OWNER_LEASES)).filter((l) => !others.has(l.imageId));
    expect(leases).toHaveLength(1);
    // Past the expiry of the lease as first seen: only the owner's renewals keep it live now.
    const renewed = await untilRenewedPast(store(), OWNER_LEASES, leases[0]!);
    await using compute = await createComputeService(service());
    expect((await compute.reapNodes()).removed).toEqual([]);
    expect((await compute.pruneImages()).removed).toEqual([]);
    expect((await onLibvirt(ephemeral)).domains).toEqual(ephemeral);
    expect(portLeases()).toHaveLength(1);
    const now = (await newestLeases(store(), OWNER_LEASES)).find((l) => l.imageId === renewed.imageId);
    expect(now!.generation).toBeGreaterThanOrEqual(renewed.generation);
    expect(lapsed(now!), 'the lease lapsed while the owner lived').toBe(false);
    owner.child.kill('SIGKILL');
    await owner.exited;
  }, 300_000);
});
