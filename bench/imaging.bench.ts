// Imaging benchmarks: config drive seeds and large ISO images, ours (in-process, pure TypeScript)
// side by side with genisoimage and xorriso spawned on the same files, with peak memory.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  buildConfigDrive,
  fromFile,
  type MediaEntry,
  writeFat,
  writeIso9660,
  writeIso9660ToFile,
} from '@vmkit/imaging';
import { planFat } from '../packages/imaging/src/fat/fat-writer.js';
import { planIso9660 } from '../packages/imaging/src/iso9660/iso-writer.js';
import { peakRssOf, peakRssOfNode } from './lib/peak-rss.js';
import { type BenchReport, medianMs, timeMs } from './lib/report.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;

export default async function imagingBench(report: BenchReport): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-imaging-'));
  try {
    await smallSeed(report, dir);
    similarNames(report);
    await largeImage(report, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function smallSeed(report: BenchReport, dir: string): Promise<void> {
  report.section('imaging: small NoCloud seed (user-data + meta-data)');
  const userData = '#cloud-config\nhostname: bench\npackages: [jq]\n';
  const spec = { format: 'nocloud' as const, instanceId: 'iid-bench', hostname: 'bench', userData };
  const seedDir = join(dir, 'seed');
  await mkdir(seedDir);
  await writeFile(join(seedDir, 'user-data'), userData);
  await writeFile(join(seedDir, 'meta-data'), 'instance-id: "iid-bench"\nlocal-hostname: "bench"\n');
  for (let i = 0; i < 20; i++) await buildConfigDrive(spec); // warm up the JIT
  const ours = await medianMs(200, () => buildConfigDrive(spec));
  const out = join(dir, 'seed.iso');
  const theirs = await medianMs(15, () =>
    exec('genisoimage', ['-quiet', '-R', '-J', '-V', 'cidata', '-o', out, seedDir]),
  );
  report.compare(
    'cidata ISO',
    { name: 'buildConfigDrive', ms: ours },
    { name: 'genisoimage (spawned)', ms: theirs },
    10,
  );
  const oursFat = await medianMs(100, () => buildConfigDrive({ ...spec, filesystem: 'vfat' }));
  const img = join(dir, 'seed.img');
  const mkfs = await medianMs(10, async () => {
    await rm(img, { force: true });
    await exec('mkfs.fat', ['-C', '-n', 'cidata', img, '1024']);
    await exec('mcopy', ['-i', img, join(seedDir, 'user-data'), join(seedDir, 'meta-data'), '::/']);
  });
  report.compare(
    'cidata vfat',
    { name: 'buildConfigDrive', ms: oursFat },
    { name: 'mkfs.fat + mcopy (spawned)', ms: mkfs },
    10,
  );
}

/**
 * 16,000 names that share their first eight characters in one directory: every 8.3 alias collides.
 * Before the per-base tail counter (up to commit 3b7f424) each collision search restarted at 1,
 * which made planning quadratic: 12,092 ms (ISO 9660 level 1) and 12,740 ms (FAT) on the
 * 2-core CI machine.
 */
function similarNames(report: BenchReport): void {
  report.section('imaging: 16,000 similar names in one directory (8.3 collisions)');
  const entries = Array.from({ length: 16_000 }, (_, i) => ({
    path: `dir/report-${String(i).padStart(6, '0')}.txt`,
    content: 'x',
  }));
  const before = { iso: 12_092, fat: 12_740 };
  const iso = Date.now();
  planIso9660(entries, { volumeId: 'NAMES' });
  const isoMs = Date.now() - iso;
  const fat = Date.now();
  planFat(entries, { label: 'NAMES' });
  const fatMs = Date.now() - fat;
  report.compare(
    'planIso9660, 16,000 names',
    { name: 'now', ms: isoMs },
    { name: 'before (restart at ~1)', ms: before.iso },
  );
  report.compare(
    'planFat, 16,000 names',
    { name: 'now', ms: fatMs },
    { name: 'before (restart at ~1)', ms: before.fat },
  );
  report.figure({
    name: 'planIso9660, 16,000 similar names',
    value: isoMs,
    unit: 'ms',
    goal: { op: '<', value: 1000 },
  });
  report.figure({
    name: 'planFat, 16,000 similar names',
    value: fatMs,
    unit: 'ms',
    goal: { op: '<', value: 1000 },
  });
}

async function largeImage(report: BenchReport, dir: string): Promise<void> {
  report.section('imaging: 64 MiB across 1,000 files');
  const tree = join(dir, 'tree');
  const total = 64 * MiB;
  let left = total;
  for (let i = 0; i < 1000; i++) {
    const size = i === 999 ? left : Math.floor((total / 1000) * (0.5 + ((i * 7919) % 1000) / 1000));
    left -= size;
    const sub = join(tree, `d${i % 20}`);
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `file-${String(i).padStart(4, '0')}.bin`), randomBytes(size));
  }
  const listEntries = async (): Promise<MediaEntry[]> => {
    const entries: MediaEntry[] = [];
    for (const sub of (await readdir(tree)).sort()) {
      for (const name of (await readdir(join(tree, sub))).sort()) {
        entries.push({ path: `${sub}/${name}`, content: await fromFile(join(tree, sub, name)) });
      }
    }
    return entries;
  };
  const iso = join(dir, 'big.iso');
  const runs = 5;
  // Warm up: the page cache for the tools, the JIT for us.
  await exec('genisoimage', ['-quiet', '-R', '-J', '-V', 'BENCH', '-o', iso, tree]);
  await rm(iso, { force: true });
  await writeIso9660ToFile(await listEntries(), iso, { volumeId: 'BENCH' });
  const ours = await medianMs(runs, async () => {
    await rm(iso, { force: true });
    await writeIso9660ToFile(await listEntries(), iso, { volumeId: 'BENCH' });
  });
  const oursSize = (await stat(iso)).size;
  const gen = await medianMs(runs, async () => {
    await rm(iso, { force: true });
    await exec('genisoimage', ['-quiet', '-R', '-J', '-V', 'BENCH', '-o', iso, tree]);
  });
  const xorriso = await medianMs(runs, async () => {
    await rm(iso, { force: true });
    await exec('xorriso', [
      '-report_about',
      'SORRY',
      '-outdev',
      iso,
      '-volid',
      'BENCH',
      '-joliet',
      'on',
      '-map',
      tree,
      '/',
    ]);
  });
  report.compare(
    '64 MiB / 1,000 files to a file',
    { name: 'writeIso9660ToFile', ms: ours },
    { name: 'genisoimage -R -J', ms: gen },
    1,
  );
  report.compare(
    '64 MiB / 1,000 files to a file',
    { name: 'writeIso9660ToFile', ms: ours },
    { name: 'xorriso -joliet on', ms: xorriso },
    1,
  );
  report.figure({ name: 'image size (ours)', value: oursSize / MiB, unit: 'MiB' });

  const inMemory = await Promise.all(
    (await listEntries()).map(async (e) => ({
      path: e.path,
      content: await import('node:fs/promises').then((fs) => fs.readFile(join(tree, e.path))),
    })),
  );
  const memoryMs = await timeMs(() => writeIso9660(inMemory, { volumeId: 'BENCH' }));
  report.figure({ name: 'writeIso9660 in memory, content already loaded', value: memoryMs, unit: 'ms' });
  const fatMs = await timeMs(() => writeFat(inMemory, { label: 'BENCH' }));
  report.figure({ name: 'writeFat in memory (FAT16), content already loaded', value: fatMs, unit: 'ms' });

  const code = `
    import { fromFile, writeIso9660ToFile } from '@vmkit/imaging';
    import { readdir } from 'node:fs/promises';
    import { join } from 'node:path';
    const tree = ${JSON.stringify(tree)};
    const entries = [];
    for (const sub of (await readdir(tree)).sort())
      for (const name of (await readdir(join(tree, sub))).sort())
        entries.push({ path: sub + '/' + name, content: await fromFile(join(tree, sub, name)) });
    await writeIso9660ToFile(entries, ${JSON.stringify(iso)} + '.peak', { volumeId: 'BENCH' });`;
  const nodeBaseline = await peakRssOfNode("await import('@vmkit/imaging');");
  const oursPeak = await peakRssOfNode(code);
  await rm(iso, { force: true });
  const genPeak = await peakRssOf('genisoimage', ['-quiet', '-R', '-J', '-V', 'BENCH', '-o', iso, tree]);
  await rm(iso, { force: true });
  const xorrisoPeak = await peakRssOf('xorriso', [
    '-report_about',
    'SORRY',
    '-outdev',
    iso,
    '-volid',
    'BENCH',
    '-joliet',
    'on',
    '-map',
    tree,
    '/',
  ]);
  report.figure({
    name: 'peak RSS, writeIso9660ToFile (Node process)',
    value: oursPeak,
    unit: 'MiB',
    note: `Node alone with the package loaded: ${nodeBaseline.toFixed(0)} MiB`,
  });
  report.figure({ name: 'peak RSS, genisoimage', value: genPeak, unit: 'MiB' });
  report.figure({ name: 'peak RSS, xorriso', value: xorrisoPeak, unit: 'MiB' });
}
