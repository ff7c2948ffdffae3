// Data volumes: populateVolume streams a 1 GiB raw volume to a file in bounded memory. Peak RSS of
// a fresh Node process writing it, against the same process holding the volume in memory as the
// old populateVolume did, both over the baseline of a process that only imports @vmkit/imaging.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peakRssOfNode } from './lib/peak-rss.js';
import { type BenchReport, timeMs } from './lib/report.js';

const GiB = 1024 ** 3;

export default async function volumeBench(report: BenchReport): Promise<void> {
  report.section('data volumes: a 1 GiB raw volume, 1 GiB of content streamed in 1 MiB chunks');
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-volume-'));
  try {
    const path = join(dir, 'data.img');
    const source = `{ size: ${GiB}, async *open() { const c = new Uint8Array(1 << 20).fill(7); for (let i = 0; i < 1024; i++) yield c; } }`;
    const baseline = await peakRssOfNode("await import('@vmkit/imaging');");
    let streamedPeak = 0;
    const streamedMs = await timeMs(async () => {
      streamedPeak = await peakRssOfNode(
        `const { populateVolume } = await import('@vmkit/imaging');
         await populateVolume(${JSON.stringify(path)}, ${GiB}, ${source});`,
      );
    });
    await rm(path, { force: true });
    let inMemoryPeak = 0;
    const inMemoryMs = await timeMs(async () => {
      // What the old populateVolume did: the whole volume as one Uint8Array, then written out.
      inMemoryPeak = await peakRssOfNode(
        `const { writeFile } = await import('node:fs/promises');
         await import('@vmkit/imaging');
         const volume = new Uint8Array(${GiB});
         const src = ${source};
         let at = 0;
         for await (const c of src.open()) { volume.set(c, at); at += c.length; }
         await writeFile(${JSON.stringify(path)}, volume);`,
      );
    });
    report.figure({ name: 'baseline (import only) peak RSS', value: baseline, unit: 'MiB' });
    report.figure({
      name: 'populateVolume to a file: peak RSS growth',
      value: streamedPeak - baseline,
      unit: 'MiB',
      goal: { op: '<', value: 64 },
      note: `${Math.round(streamedMs)} ms`,
    });
    report.figure({
      name: 'whole volume in memory (the old way): peak RSS growth',
      value: inMemoryPeak - baseline,
      unit: 'MiB',
      note: `${Math.round(inMemoryMs)} ms`,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
