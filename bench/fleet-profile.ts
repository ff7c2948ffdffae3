// One fleet run (bench/fleet.bench.ts's fleet) with where its time went, to find what to speed up:
// `npx tsx bench/fleet-profile.ts fs|s3 [HOSTS=16] [IMAGES=5]`. Prints, from each host's own
// `go`, when builders started and published and when adopters began downloading and were ready
// (min, median, max), each host's start-up phases and CPU time, the store calls of the fleet with
// their mean time, and for S3 the test server's CPU time against the wall time. Its files live on
// a journaled ext4 where one can be mounted, as in the bench (VMKIT_BENCH_TEMP=1: the system temp
// folder instead; see lib/bench-filesystem.ts).
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FLEET_MAIN,
  Fleet,
  type FleetHost,
  fleetImages,
} from '../packages/core/src/compute/fleet.fixture.js';
import { startTestS3Server, type TestS3Server } from '../packages/store-s3/src/testing/s3-test-server.js';
import { createTestBucket } from '../packages/store-s3/src/testing/test-store.js';
import { journaledExt4, systemTemp } from './lib/bench-filesystem.js';

const S3_MAIN = fileURLToPath(
  new URL('../packages/store-s3/src/testing/build-race-main.mjs', import.meta.url),
);
const [kind = 'fs', hostsArg = '16', imagesArg = '5'] = process.argv.slice(2);

/** CPU time (user and system) of a process so far, in ms (Linux). */
function cpuMsOf(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const spread = (values: number[]): string => {
  const v = [...values].sort((a, b) => a - b);
  return `min ${v[0]} median ${v[Math.floor(v.length / 2)]} max ${v.at(-1)} (n=${v.length})`;
};

type Line = Record<string, unknown> & {
  ask?: string;
  at?: number;
  event?: { phase?: string; step?: string };
};

/** When (ms from its `go`) a host first reported `match` for image `id`. */
function firstAt(
  host: FleetHost,
  id: string,
  match: (e: NonNullable<Line['event']>) => boolean,
): number | undefined {
  const lines = host.proc.lines as Line[];
  return lines.find((l) => l.ask === id && l.event && match(l.event))?.at;
}

const where =
  (process.env.VMKIT_BENCH_TEMP === '1' ? undefined : await journaledExt4()) ??
  (await systemTemp('vmkit-fleet-profile-'));
console.log(`files on ${where.label}`);
const dir = where.dir;
let server: TestS3Server | undefined;
let fleet: Fleet | undefined;
try {
  await mkdir(join(dir, 'tmp'));
  server =
    kind === 's3'
      ? await startTestS3Server({ directory: join(dir, 's3'), conditionalWrites: true })
      : undefined;
  const storeEnv: Record<string, string> = server
    ? { VMKIT_BUCKET: await createTestBucket(server), VMKIT_ENDPOINT: server.endpoint }
    : { VMKIT_STORE: join(dir, 'store') };
  // The hosts stage shared disks on the same filesystem.
  storeEnv.TMPDIR = join(dir, 'tmp');
  fleet = await Fleet.start({
    main: server ? S3_MAIN : FLEET_MAIN,
    hosts: Number(hostsArg),
    images: fleetImages(Number(imagesArg)),
    buildDelayMs: 1500,
    ttlMs: 6000,
    storeEnv,
    dir,
    deadlineMs: 300_000,
  });
  const serverCpu = server ? cpuMsOf(server.pid) : 0;
  const wall = Date.now();
  fleet.go();
  await fleet.end();
  const phases: Record<string, number[]> = {};
  const add = (name: string, value: number | undefined) => {
    if (value !== undefined) phases[name] = [...(phases[name] ?? []), value];
  };
  const ops: Record<string, { n: number; ms: number }> = {};
  for (const host of fleet.hosts) {
    const done = host.done();
    if (!done) continue;
    for (const [k, v] of Object.entries(done.phases)) add(`start-up: ${k}`, v);
    add('CPU ms from go to ready', done.cpuMs);
    add('host ready', done.ms);
    for (const [op, n] of Object.entries(done.ops)) {
      const o = ops[op] ?? { n: 0, ms: 0 };
      ops[op] = { n: o.n + n, ms: o.ms + (done.opMs[op] ?? 0) };
    }
    const built = new Set(host.builds());
    for (const line of host.proc.lines) {
      const image = line.image as { id: string; ms: number } | undefined;
      if (!image) continue;
      const role = built.has(image.id) ? 'builder' : 'adopter';
      add(
        `${role}: first lease event`,
        firstAt(host, image.id, (e) => e.phase === 'build'),
      );
      if (role === 'builder')
        add(
          'builder: publish start',
          firstAt(host, image.id, (e) => e.step === 'publish'),
        );
      else
        add(
          'adopter: download start',
          firstAt(host, image.id, (e) => e.step === 'download'),
        );
      add(`${role}: image ready`, image.ms);
    }
  }
  for (const [name, values] of Object.entries(phases)) console.log(`${name.padEnd(30)} ${spread(values)}`);
  const total = Object.values(ops).reduce((n, o) => n + o.n, 0);
  console.log(
    `store calls of the fleet from go: ${total} (${Object.entries(ops)
      .map(([op, o]) => `${op} ${o.n}, mean ${Math.round(o.ms / Math.max(1, o.n))} ms`)
      .join('; ')})`,
  );
  const warnings = new Map<string, number>();
  for (const log of fleet.hosts.flatMap((h) => h.logs('warn', 'error')))
    warnings.set(
      `${log.message}${log.fields.reason ? ` (${log.fields.reason})` : ''}`,
      (warnings.get(`${log.message}${log.fields.reason ? ` (${log.fields.reason})` : ''}`) ?? 0) + 1,
    );
  for (const [message, n] of warnings) console.log(`warning ${n} x ${message}`);
  if (server)
    console.log(
      `s3rver CPU from go to the last host done: ${cpuMsOf(server.pid) - serverCpu} ms over ${Date.now() - wall} ms`,
    );
} finally {
  if (fleet) {
    fleet.dispose();
    // Every host gone before its files are (the filesystem is unmounted next).
    await Promise.all(fleet.hosts.map((h) => h.proc.exited));
  }
  try {
    await server?.dispose();
  } finally {
    await where.dispose();
  }
}
