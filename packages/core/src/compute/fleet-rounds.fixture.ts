import { expect } from 'vitest';
import { type BlobStore, listAll } from '../blobstore/blob-store.js';
import { Fleet, type FleetHost, fleetImages } from './fleet.fixture.js';

/** The containers a fleet with the default `container` uses. */
const LEASES = 'vmkit-images-leases';
const QUARANTINE = 'vmkit-images-quarantine';
const SHARED = 'vmkit-images-shared';

/** A fresh store the fleet runs on, as the host processes and the test reach it. */
export interface FleetPlace {
  /** The environment naming it to a host process (`VMKIT_STORE`, or `VMKIT_BUCKET` and `VMKIT_ENDPOINT`). */
  readonly storeEnv: Readonly<Record<string, string>>;
  /** The same store, for the test to look at. */
  readonly store: BlobStore;
  /** Half-written files a killed writer could leave (the filesystem store's temp files). */
  strayFiles(): Promise<string[]>;
}

/** What the rounds run: the host script, a scratch folder, how many hosts and images. */
export interface FleetRoundOptions {
  readonly main: string;
  readonly dir: string;
  readonly hosts: number;
  readonly images: number;
  /** The build lease's TTL (the fleet used 6 s). */
  readonly ttlMs: number;
}

const names = async (store: BlobStore, container: string): Promise<string[]> => {
  if (!(await store.containerExists(container))) return [];
  const found: string[] = [];
  for await (const item of listAll(store, container)) found.push(item.name);
  return found;
};

const count = (ids: string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const id of ids) out[id] = (out[id] ?? 0) + 1;
  return out;
};

const once = (ids: readonly string[]): Record<string, number> => Object.fromEntries(ids.map((id) => [id, 1]));

/**
 * Checks what `hosts` (every host not killed) reported once every one has ended: each exited 0
 * with every image ready and no failure, each image was built by exactly one of them and adopted
 * by every other, by the hosts' own events and by their hypervisors' counters alike; no lease blob, no quarantined record, no
 * half-written file is left, and the store shares each master once.
 */
async function expectFleetReady(place: FleetPlace, hosts: FleetHost[], ids: string[], fleet: Fleet) {
  const summary = fleet.summary();
  // Every host that failed an image, with its errors, in one message.
  const failing = hosts.filter((h) => h.failed().length > 0);
  expect(
    failing.map((h) => h.describe()),
    `${failing.length} of ${hosts.length} hosts failed`,
  ).toEqual([]);
  for (const h of hosts) {
    const exit = await h.proc.exited;
    expect(h.failed(), `${h.describe()}\n${exit.stderr}`).toEqual([]);
    expect(exit.code, `${h.describe()}\n${exit.stderr}`).toBe(0);
    expect(h.logs('error'), h.name).toEqual([]);
    expect([...h.ready()].sort(), h.name).toEqual(ids);
    // Each image either built or adopted by this host, never both, never twice.
    expect([...h.builds(), ...h.adoptions()].sort(), h.describe()).toEqual(ids);
  }
  expect(count(hosts.flatMap((h) => h.builds())), summary).toEqual(once(ids));
  const builds = ids.length;
  const adoptions = hosts.length * ids.length - builds;
  expect(
    hosts.flatMap((h) => h.adoptions()),
    summary,
  ).toHaveLength(adoptions);
  const done = hosts.map((h) => h.done());
  expect(done.reduce((n, d) => n + (d?.builds ?? 0), 0)).toBe(builds);
  expect(done.reduce((n, d) => n + (d?.imports ?? 0), 0)).toBe(adoptions);
  expect(await names(place.store, LEASES)).toEqual([]);
  expect(await names(place.store, QUARANTINE)).toEqual([]);
  expect(await place.strayFiles()).toEqual([]);
  // One record and one disk per image: nothing half-published, nothing published twice.
  expect(await names(place.store, SHARED)).toHaveLength(2 * ids.length);
}

/** Starts the fleet of a round on `place`; `ids` are its image ids in order. */
async function startFleet(
  place: FleetPlace,
  options: FleetRoundOptions,
  timing: { readonly buildDelayMs: number; readonly deadlineMs: number },
): Promise<{ fleet: Fleet; ids: string[] }> {
  const images = fleetImages(options.images);
  const fleet = await Fleet.start({ ...options, ...timing, images, storeEnv: place.storeEnv });
  return { fleet, ids: images.map((i) => i.id).sort() };
}

/**
 * Round one: `hosts` processes ask for every image at once, each in its own random order.
 * Exactly one build per image, every other host adopts it, no host logs a warning or an error.
 */
export async function runFleetRound(place: FleetPlace, options: FleetRoundOptions): Promise<void> {
  const { fleet, ids } = await startFleet(place, options, { buildDelayMs: 1500, deadlineMs: 90_000 });
  try {
    fleet.go();
    const hosts = await fleet.end();
    await expectFleetReady(place, hosts, ids, fleet);
    for (const h of hosts) expect(h.logs('warn'), h.name).toEqual([]);
  } finally {
    fleet.dispose();
  }
}

/** The images whose lease blobs name `pid` as their holder: the leases it held when it died. */
async function leasesHeldBy(store: BlobStore, pid: number): Promise<string[]> {
  const held = new Set<string>();
  for (const name of await names(store, LEASES)) {
    const blob = await store.getBlob(LEASES, name);
    const record = blob
      ? (JSON.parse(await blob.text()) as { imageId: string; holder: { pid: number } })
      : undefined;
    if (record?.holder.pid === pid) held.add(record.imageId);
  }
  return [...held];
}

/**
 * Round two: as round one with builds of 3 s, but once every image's build has started, two
 * builder hosts are killed with SIGKILL (when one host started every build, it is killed, and
 * once the survivors have taken over and started every build again, one of them). Every
 * surviving host ends ready; each lease a dead host held is taken over exactly once (counted from
 * the hosts' own "took over" logs); the survivors build each image exactly once and adopt the
 * rest; nothing of the dead is left.
 */
export async function runKilledBuildersRound(place: FleetPlace, options: FleetRoundOptions): Promise<void> {
  const { fleet, ids } = await startFleet(place, options, { buildDelayMs: 3000, deadlineMs: 150_000 });
  try {
    fleet.go();
    const killed: string[] = []; // one entry per lease a killed host held
    const killMidBuild = async (victim: FleetHost) => {
      await fleet.kill(victim);
      const held = await leasesHeldBy(place.store, victim.pid);
      // It died mid-build, and every lease it held was for a build it had started and not ended.
      expect(victim.buildsInProgress(), `${victim.name} is mid-build`).not.toEqual([]);
      expect(held.sort(), fleet.summary()).toEqual([...victim.buildsInProgress()].sort());
      killed.push(...held);
    };
    const alive = () => fleet.hosts.filter((h) => !h.killed);
    const dead = () => fleet.hosts.filter((h) => h.killed);
    while (dead().length < 2) {
      // Every image is being built by a live host: every takeover is done, no build has ended.
      await fleet.until('every image is being built', () =>
        new Set(alive().flatMap((h) => h.buildsInProgress())).size === ids.length ? true : undefined,
      );
      expect(
        fleet.hosts.flatMap((h) => h.ready()),
        'no build may end before a kill',
      ).toEqual([]);
      const builders = alive().filter((h) => h.buildsInProgress().length > 0);
      const victims = builders.slice(0, 2 - dead().length);
      await Promise.all(victims.map(killMidBuild));
    }
    const survivors = await fleet.end();
    const tookOver = fleet.hosts.flatMap((h) => h.logs('warn').filter((l) => /took over/.test(l.message)));
    expect(count(tookOver.map((l) => String(l.fields.imageId))), fleet.summary()).toEqual(count(killed));
    for (const h of survivors)
      expect(
        h.logs('warn').filter((l) => !/took over/.test(l.message)),
        h.name,
      ).toEqual([]);
    await expectFleetReady(place, survivors, ids, fleet);
  } finally {
    fleet.dispose();
  }
}
