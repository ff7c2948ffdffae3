// Scratch: one fleet run with per-host phase timestamps (usage: tsx bench/fleet-profile.ts fs|s3 HOSTS [IMAGES]).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
const cpuOf = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
import { FLEET_MAIN, Fleet, fleetImages } from '../packages/core/src/compute/fleet.fixture.js';
import { startTestS3Server } from '../packages/store-s3/src/testing/s3-test-server.js';
import { createTestBucket } from '../packages/store-s3/src/testing/test-store.js';

const S3_MAIN = fileURLToPath(new URL('../packages/store-s3/src/testing/build-race-main.mjs', import.meta.url));
const [kind = 'fs', hostsArg = '16', imagesArg = '5'] = process.argv.slice(2);
const hosts = Number(hostsArg);
const images = Number(imagesArg);
const dir = await mkdtemp(join(tmpdir(), 'vmkit-prof-'));
const server = kind === 's3' ? await startTestS3Server({ directory: join(dir, 's3'), conditionalWrites: true }) : undefined;
const cpu0 = process.cpuUsage();
try {
  const storeEnv = server
    ? { VMKIT_BUCKET: await createTestBucket(server), VMKIT_ENDPOINT: server.endpoint }
    : { VMKIT_STORE: join(dir, 'store') };
  const t0 = Date.now();
  const fleet = await Fleet.start({
    main: server ? S3_MAIN : FLEET_MAIN, hosts, images: fleetImages(images), buildDelayMs: 1500, ttlMs: 6000,
    storeEnv: { ...storeEnv, VMKIT_TRACE: '1', ...(process.env.PROF ? { VMKIT_CPUPROF: '/tmp/vmkit-cpuprof' } : {}) }, dir, deadlineMs: 300_000,
  });
  const startMs = Date.now() - t0;
  const serverCpu0 = server ? cpuOf(server.pid) : 0;
  const goAt = Date.now();
  fleet.go();
  await fleet.end();
  const serverCpu = server ? cpuOf(server.pid) : 0;
  const wall = Date.now() - goAt;
  const perImage = new Map<string, number[]>();
  const rows = [];
  const all: Record<string, number[]> = {};
  const push = (k: string, v: number | undefined) => { if (v !== undefined) (all[k] ??= []).push(v); };
  for (const h of fleet.hosts) {
    const done = h.done() as any;
    const lines = h.proc.lines;
    const ready = lines.find((l) => 'ready' in l)?.ready as any;
    for (const id of h.ready()) {
      const ev = lines.filter((l) => l.ask === id) as any[];
      const waitAt = ev.find((e) => /waiting for the build lease/.test(e.event.message ?? ''))?.at;
      const buildAt = ev.find((e) => e.event.phase === 'build' && e.event.step)?.at;
      const dlAt = ev.find((e) => e.event.phase === 'transfer' && e.event.step === 'download')?.at;
      const pubAt = ev.find((e) => e.event.phase === 'transfer' && e.event.step === 'publish')?.at;
      const readyAt = (lines.find((l) => (l.image as any)?.id === id)?.image as any)?.ms;
      const first = ev[0]?.at;
      if (buildAt !== undefined) { push('builder: first step', buildAt); push('builder: publish start', pubAt); push('builder: ready', readyAt); const list = perImage.get(id) ?? []; list.push(readyAt); perImage.set(id, list); }
      else { push('adopter: first event', first); push('adopter: waiting seen', waitAt); push('adopter: download start', dlAt); push('adopter: ready', readyAt); push('adopter: download->ready', readyAt - dlAt); }
    }
    rows.push({ host: h.name, ms: done?.ms, cpuMs: done?.cpuMs, builds: done?.builds, ops: JSON.stringify(done?.ops), opMs: JSON.stringify(done?.opMs), phases: JSON.stringify(ready?.phases) });
  }
  for (const r of rows) console.log(Object.values(r).join('  '));
  const stat = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return `n=${s.length} min ${s[0]} med ${s[Math.floor(s.length / 2)]} max ${s.at(-1)}`; };
  for (const [k, v] of Object.entries(all)) console.log(k.padEnd(28), stat(v));
  const logs = fleet.hosts.flatMap((h) => h.proc.lines.filter((l) => 'log' in l).map((l) => `${(l.log as any).message}`));
  const counts = new Map<string, number>(); for (const m of logs) counts.set(m, (counts.get(m) ?? 0) + 1);
  console.log([...counts].map(([m, n]) => `${n} x ${m}`).join('\n'));
  console.log(`start ${startMs} ms; fleet max ms ${Math.max(...fleet.hosts.map((h) => (h.done() as any)?.ms ?? 0))}; s3rver cpu ms from go to end ${serverCpu - serverCpu0} over ${wall} ms wall; hosts cpu sum ${fleet.hosts.reduce((n, h) => n + ((h.done() as any)?.cpuMs ?? 0), 0)}`);
  const h = fleet.hosts.find((x) => (x.done() as any)?.builds === 0)!;
  const tr = (h.proc.lines.find((l) => 'trace' in l)?.trace ?? []) as any[];
  const adoptId = h.adoptions()[0];
  console.log(`trace of ${h.name}, image ${adoptId}`);
  const ev = h.proc.lines.filter((l) => l.ask === adoptId).map((l: any) => [l.at, l.event.phase, l.event.step ?? l.event.message?.slice(0, 50)]);
  for (const e of ev) console.log('  event', JSON.stringify(e));
  for (const l of h.proc.lines.filter((l: any) => l.log?.fields?.imageId === adoptId)) console.log('  log', JSON.stringify(l));
  console.log('  ready', JSON.stringify(h.proc.lines.find((l: any) => l.image?.id === adoptId)));
  for (const t of tr.sort((a, b) => a[2] - b[2])) if (String(t[1]).includes(adoptId) || !String(t[1]).includes('img-')) console.log('  ', JSON.stringify(t));
  fleet.dispose();
} finally {
  await server?.dispose();
  await rm(dir, { recursive: true, force: true });
}
