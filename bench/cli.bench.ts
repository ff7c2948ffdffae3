// The vmkit command: start-up of `vmkit --help` and `vmkit images` (the heavy modules load only when
// a command needs them), and `vmkit seed` side by side with cloud-localds on the same small seed.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildConfigDrive } from '@vmkit/imaging';
import { type BenchReport, medianMs } from './lib/report.js';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const vmkit = join(repo, 'packages', 'cli', 'bin', 'vmkit.js');
const RUNS = 7;

/** Runs the compiled dist/ (hundreds of files) instead of bin/vmkit.js's bundle: the `before` figure. */
const UNBUNDLED = `const { main } = await import(${JSON.stringify(join(repo, 'packages', 'cli', 'dist', 'main.js'))});
process.exitCode = await main(process.argv.slice(1), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });`;

/** Medians of `a` and `b`, run in turn (a, b, a, b...) so both see the same machine load. */
async function pairedMediansMs(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
): Promise<[number, number]> {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < RUNS; i++) {
    times[0].push(await medianMs(1, a));
    times[1].push(await medianMs(1, b));
  }
  const median = (t: number[]) => t.sort((x, y) => x - y)[Math.floor(t.length / 2)] as number;
  return [median(times[0]), median(times[1])];
}

/** Median wall time of `vmkit ARGS` as a fresh process, as a shell runs it. */
function vmkitMs(args: string[], cwd: string): Promise<number> {
  return medianMs(RUNS, () => exec(process.execPath, [vmkit, ...args], { cwd }));
}

export default async function cliBench(report: BenchReport): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-bench-'));
  try {
    const guest = join(repo, '.vmkit', 'test-guest');
    await writeFile(
      join(dir, 'vmkit.config.json'),
      JSON.stringify({
        provider: { uri: 'qemu:///system', namePrefix: 'vbcli-' },
        store: { dir: 'store' },
        images: [
          {
            id: 'tiny',
            os: { family: 'linux', version: 'vmkit-test-guest', arch: 'x86_64' },
            source: { type: 'kernel', kernel: join(guest, 'vmlinuz'), initrd: join(guest, 'initrd.img') },
          },
        ],
      }),
    );
    report.section('vmkit command: start-up (a fresh process each run, median of 7)');
    const nodeMs = await medianMs(RUNS, () => exec(process.execPath, ['-e', '0']));
    report.figure({ name: 'node -e 0 (the floor)', value: Math.round(nodeMs), unit: 'ms' });
    const help = await vmkitMs(['--help'], dir);
    report.figure({
      name: 'vmkit --help',
      value: Math.round(help),
      unit: 'ms',
      goal: { op: '<=', value: 300 },
    });
    const images = await vmkitMs(['images'], dir);
    report.figure({
      name: 'vmkit images',
      value: Math.round(images),
      unit: 'ms',
      goal: { op: '<=', value: 300 },
      note: 'loads core and the libvirt provider, connects to qemu:///system, reads the store',
    });
    const [bundled, unbundled] = await pairedMediansMs(
      () => exec(process.execPath, [vmkit, 'images'], { cwd: dir }),
      () => exec(process.execPath, ['--input-type=module', '-e', UNBUNDLED, 'images'], { cwd: dir }),
    );
    report.compare(
      'vmkit images, bundled vs not (in turn)',
      { name: 'bin/vmkit.js (dist/bundle/)', ms: bundled },
      { name: 'compiled dist/main.js', ms: unbundled },
    );

    report.section('vmkit seed vs cloud-localds: a small NoCloud seed (median of 7)');
    await writeFile(join(dir, 'user-data'), '#cloud-config\nruncmd: [echo hello]\n');
    await writeFile(join(dir, 'meta-data'), 'instance-id: iid-bench\nlocal-hostname: bench\n');
    const args = ['user-data', 'meta-data'];
    const ours = await vmkitMs(['seed', 'ours.iso', ...args], dir);
    const theirs = await medianMs(RUNS, () => exec('cloud-localds', ['theirs.iso', ...args], { cwd: dir }));
    report.compare(
      'process vs process',
      { name: 'vmkit seed', ms: ours },
      { name: 'cloud-localds', ms: theirs },
      10,
    );
    const inProcess = await medianMs(RUNS, () =>
      buildConfigDrive({
        format: 'nocloud',
        instanceId: 'iid-bench',
        hostname: 'bench',
        userData: '#cloud-config\n',
      }),
    );
    report.compare(
      'the seed work alone (no process start-up)',
      { name: 'buildConfigDrive in-process', ms: inProcess },
      { name: 'cloud-localds', ms: theirs },
      10,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
