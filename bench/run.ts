// Runs every bench/*.bench.ts (or those named on the command line) in one process, one after the
// other, so figures are compared side by side on the same machine in the same run.
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BenchReport } from './lib/report.js';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
const report = new BenchReport();
let failed = false;
for (const file of files) {
  if (wanted.length > 0 && !wanted.some((w) => file.includes(w))) continue;
  const mod = (await import(pathToFileURL(join(here, file)).href)) as {
    default: (r: BenchReport) => Promise<void>;
  };
  try {
    await mod.default(report);
  } catch (error) {
    failed = true;
    console.error(`bench ${file} failed:`, error);
  }
}
if (failed) process.exitCode = 1;
