// Boot ISO benchmarks: remastering a bootable ISO of more than 300 MiB with kernel parameters, ours
// (remasterBootIso, pure TypeScript) side by side with `xorriso -boot_image any replay` given the
// same patched configuration files, peak memory, the grub-mkrescue ISO xorriso cannot replay, and
// the boot ISO cache's hit time. Fixture ISOs come from scripts/test.d/30-boot-isos.sh.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bootIsoCache, readIso9660, remasterBootIso } from '@vmkit/imaging';
import { peakRssOfNode } from './lib/peak-rss.js';
import { type BenchReport, medianMs, timeMs } from './lib/report.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;
const FIXTURES = process.env.VMKIT_BOOT_ISO_DIR ?? join(process.cwd(), '.vmkit', 'boot-isos');
const PARAMS = 'vmkit.bench=1 auto=true';

async function randomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; left -= 4 * MiB) {
    if (!out.write(randomBytes(Math.min(4 * MiB, left))))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

export default async function bootIsoBench(report: BenchReport): Promise<void> {
  await exec('bash', ['scripts/test.d/30-boot-isos.sh'], { maxBuffer: 16 * MiB });
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-bootiso-'));
  try {
    await largeIso(report, dir);
    await mkrescue(report, dir);
    await cache(report, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function largeIso(report: BenchReport, dir: string): Promise<void> {
  report.section('boot ISO: remaster a 320 MiB isolinux + GRUB EFI hybrid ISO');
  const filler = join(dir, 'filler.bin');
  await randomFile(filler, 320 * MiB);
  const big = join(dir, 'big.iso');
  await exec('xorriso', [
    '-indev',
    join(FIXTURES, 'isolinux.iso'),
    '-outdev',
    big,
    '-boot_image',
    'any',
    'replay',
    '-map',
    filler,
    '/live/filler.bin',
  ]);
  await rm(filler);
  const size = (await stat(big)).size;
  report.figure({ name: 'source ISO', value: Math.round(size / MiB), unit: 'MiB' });
  // xorriso is given the same two patched configuration files (it cannot patch the EFI image).
  const iso = await readIso9660(big);
  const patchedCfg = async (path: string, name: string) => {
    const text = new TextDecoder().decode(await iso.readFile(path));
    const out = join(dir, name);
    await writeFile(out, text.replace(/ -- /g, ` ${PARAMS} -- `));
    return out;
  };
  const isolinuxCfg = await patchedCfg('isolinux/isolinux.cfg', 'isolinux.cfg');
  const grubCfg = await patchedCfg('boot/grub/grub.cfg', 'grub.cfg');
  const ours = join(dir, 'ours.iso');
  const theirs = join(dir, 'theirs.iso');
  const oursMs = await medianMs(3, async () => {
    await rm(ours, { force: true });
    await remasterBootIso({ source: big, output: ours, kernelParams: PARAMS });
  });
  const xorrisoMs = await medianMs(3, async () => {
    await rm(theirs, { force: true });
    await exec('xorriso', [
      '-indev',
      big,
      '-outdev',
      theirs,
      '-boot_image',
      'any',
      'replay',
      '-map',
      isolinuxCfg,
      '/isolinux/isolinux.cfg',
      '-map',
      grubCfg,
      '/boot/grub/grub.cfg',
    ]);
  });
  report.compare(
    'remaster 320 MiB ISO',
    { name: 'remasterBootIso', ms: oursMs },
    { name: 'xorriso replay', ms: xorrisoMs },
    1,
  );
  const baseline = await peakRssOfNode("await import('@vmkit/imaging');");
  const code = `const { remasterBootIso } = await import('@vmkit/imaging');
    await remasterBootIso({ source: ${JSON.stringify(big)}, output: ${JSON.stringify(join(dir, 'rss.iso'))}, kernelParams: ${JSON.stringify(PARAMS)} });`;
  const peak = await peakRssOfNode(code);
  report.figure({
    name: 'peak RSS, remasterBootIso of the 320 MiB ISO',
    value: Math.round(peak),
    unit: 'MiB',
    goal: { op: '<', value: 128 },
  });
  report.figure({
    name: 'peak RSS, Node with @vmkit/imaging loaded (baseline)',
    value: Math.round(baseline),
    unit: 'MiB',
  });
  await rm(join(dir, 'rss.iso'), { force: true });
  await rm(theirs, { force: true });
  await rm(ours, { force: true });
  await rm(big, { force: true });
}

async function mkrescue(report: BenchReport, dir: string): Promise<void> {
  report.section('boot ISO: the grub-mkrescue ISO (BIOS + UEFI hybrid, GRUB 2.06)');
  const source = join(FIXTURES, 'mkrescue.iso');
  const replay = await exec('xorriso', [
    '-indev',
    source,
    '-outdev',
    join(dir, 'x.iso'),
    '-boot_image',
    'any',
    'replay',
  ])
    .then(() => 'succeeded')
    .catch((error: { stderr?: string }) => {
      const reason =
        /Overlapping GPT entries requested|FAILURE[^\n]*/.exec(error.stderr ?? '')?.[0] ?? 'failed';
      return `failed: ${reason}`;
    });
  report.figure({ name: `xorriso -boot_image any replay ${replay}`, value: 0, unit: '' });
  const ms = await medianMs(3, () =>
    remasterBootIso({ source, output: join(dir, 'mk.iso'), kernelParams: PARAMS }),
  );
  const result = await readFile(join(dir, 'mk.iso')).then((b) => b.length);
  report.figure({
    name: 'remasterBootIso of the grub-mkrescue ISO',
    value: Math.round(ms),
    unit: 'ms',
    note: `${Math.round(result / MiB)} MiB out`,
  });
}

async function cache(report: BenchReport, dir: string): Promise<void> {
  report.section('boot ISO cache');
  const boots = bootIsoCache({ dir: join(dir, 'cache'), maxBytes: 1024 * MiB });
  const source = join(FIXTURES, 'isolinux.iso');
  const missMs = await timeMs(async () => (await boots.get(source, PARAMS)).release());
  const hitMs = await medianMs(5, async () => (await boots.get(source, PARAMS)).release());
  const oneShotMs = await medianMs(5, async () =>
    (await boots.get(source, PARAMS, { oneShot: true })).release(),
  );
  report.figure({ name: 'miss (hash source, remaster 20 MiB ISO)', value: Math.round(missMs), unit: 'ms' });
  report.figure({ name: 'hit (median of 5)', value: hitMs, unit: 'ms', goal: { op: '<', value: 50 } });
  const coldHitMs = await timeMs(async () =>
    (await bootIsoCache({ dir: join(dir, 'cache'), maxBytes: 1024 * MiB }).get(source, PARAMS)).release(),
  );
  report.figure({
    name: 'hit from a new cache object (hashes the source again)',
    value: Math.round(coldHitMs),
    unit: 'ms',
  });
  report.figure({ name: 'one-shot copy, get + release (median of 5)', value: oneShotMs, unit: 'ms' });
}
