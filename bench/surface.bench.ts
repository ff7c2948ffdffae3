// The public surface as users meet it: cold import time of each package entry (a new Node process
// per import, median of several), names each entry exports (from the API report), the largest
// source file, and each package's packed size.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchReport } from './lib/report.js';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRIES = [
  '@vmkit/core',
  '@vmkit/core/blobstore',
  '@vmkit/core/spi',
  '@vmkit/core/testing',
  '@vmkit/core/inversify',
  '@vmkit/imaging',
  '@vmkit/store-s3',
  '@vmkit/provider-libvirt',
  '@vmkit/provider-virtualbox',
  '@vmkit/import',
  '@vmkit/cli',
];
const RUNS = 7;

async function coldImportMs(specifier: string): Promise<number> {
  const times: number[] = [];
  const code = `const t=performance.now();await import(${JSON.stringify(specifier)});console.log(performance.now()-t)`;
  for (let i = 0; i < RUNS; i++) {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: root });
    times.push(Number(stdout.trim()));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

async function largestSourceFile(): Promise<{ file: string; lines: number }> {
  let best = { file: '', lines: 0 };
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.name.endsWith('.ts') && !e.name.includes('.test.')) {
        const lines = (await readFile(path, 'utf8')).split('\n').length;
        if (lines > best.lines) best = { file: path.slice(root.length + 1), lines };
      }
    }
  };
  for (const pkg of await readdir(join(root, 'packages'))) await walk(join(root, 'packages', pkg, 'src'));
  return best;
}

export default async function surface(report: BenchReport): Promise<void> {
  report.section('Public surface: cold import time per entry (new process, median of 7)');
  for (const entry of ENTRIES) {
    const ms = await coldImportMs(entry);
    report.figure({
      name: `import('${entry}')`,
      value: ms,
      unit: 'ms',
      ...(entry === '@vmkit/core' ? { goal: { op: '<=', value: 150 } } : {}),
    });
  }

  report.section('Public surface: names per entry (api/*.api.md) and largest file');
  for (const file of (await readdir(join(root, 'api'))).filter((f) => f.endsWith('.api.md')).sort()) {
    const text = await readFile(join(root, 'api', file), 'utf8');
    for (const m of text.matchAll(/^## (\S+) \((\d+) names\)$/gm)) {
      report.figure({ name: `${m[1]} exported names`, value: Number(m[2]), unit: 'names' });
    }
  }
  const largest = await largestSourceFile();
  report.figure({
    name: 'largest source file',
    value: largest.lines,
    unit: 'lines',
    goal: { op: '<=', value: 300 },
    note: largest.file,
  });

  report.section('Packages as published (npm pack --dry-run)');
  const workspaces = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).workspaces as string[];
  for (const ws of workspaces.filter((w) => w.startsWith('packages/'))) {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: join(root, ws),
    });
    const [packed] = JSON.parse(stdout) as Array<{
      name: string;
      size: number;
      unpackedSize: number;
      entryCount: number;
      files: Array<{ path: string }>;
    }>;
    if (!packed) continue;
    const stray = packed.files.filter(
      (f) => f.path.includes('tsbuildinfo') || f.path.includes('/testing/s3-'),
    ).length;
    report.figure({
      name: `${packed.name} packed`,
      value: packed.size / 1024,
      unit: 'KiB',
      note: `${packed.entryCount} files, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${stray} build-info or test-server files`,
    });
  }
}
