// Runs every ```ts block of docs/*.md (except ```ts nocheck) and every examples/*.ts script
// marked `// check: run` in its first lines, so guides and examples cannot rot. Each runs in its
// own process with tsx; it fails when it exits non-zero or when its standard output lacks a line
// its `console.log(...); // expected output` comments promise (see lib/expected-output.ts for the
// rules and the `…` wildcard). A failure prints its output and fails the check.
// `--root <dir>` checks the docs/ and examples/ of another tree (used by this script's own test).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareOutput, expectedLines } from './lib/expected-output.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? (process.argv[rootArg + 1] ?? repo) : repo;
const scratch = join(root, 'examples', '.docs-check');
const tsx = join(repo, 'node_modules', '.bin', 'tsx');

/** Runs one block or example with a TMPDIR of its own, removed afterwards (guides make temp folders for readers). */
async function run(file: string): Promise<{ code: number; output: string; stdout: string }> {
  const tmp = await mkdtemp(join(tmpdir(), 'vmkit-docs-check-'));
  try {
    return await runIn(file, tmp);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function runIn(file: string, tmp: string): Promise<{ code: number; output: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(tsx, [file], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: tmp },
    });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (d) => {
      output += d;
      stdout += d;
    });
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code: code ?? 1, output, stdout }));
  });
}

const jobs: Array<{ label: string; file: string; expected: string[] }> = [];
await rm(scratch, { recursive: true, force: true });
await mkdir(scratch, { recursive: true });
for (const doc of (await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).sort()) {
  const text = await readFile(join(root, 'docs', doc), 'utf8');
  const blocks = [...text.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)];
  for (const [i, block] of blocks.entries()) {
    if ((block[1] ?? '').includes('nocheck')) continue;
    const file = join(scratch, `${doc.replace(/\.md$/, '')}-${i + 1}.mts`);
    await writeFile(file, block[2] ?? '');
    jobs.push({ label: `docs/${doc} block ${i + 1}`, file, expected: expectedLines(block[2] ?? '') });
  }
}
for (const example of (await readdir(join(root, 'examples'))).filter((f) => f.endsWith('.ts')).sort()) {
  const source = await readFile(join(root, 'examples', example), 'utf8');
  if (source.split('\n').slice(0, 5).join('\n').includes('check: run'))
    jobs.push({
      label: `examples/${example}`,
      file: join(root, 'examples', example),
      expected: expectedLines(source),
    });
}

let failed = 0;
for (const job of jobs) {
  const started = performance.now();
  const { code, output, stdout } = await run(job.file);
  const ms = Math.round(performance.now() - started);
  const mismatch = code === 0 ? compareOutput(job.expected, stdout) : undefined;
  if (code !== 0) {
    failed++;
    console.log(`FAIL ${job.label} (exit ${code})\n${output}`);
  } else if (mismatch) {
    failed++;
    console.log(`FAIL ${job.label} (output differs from its comments)\n${mismatch}`);
  } else {
    console.log(`ok   ${job.label} (${ms} ms, ${job.expected.length} expected line(s))`);
  }
}
await rm(scratch, { recursive: true, force: true });
console.log(`docs and examples: ${jobs.length - failed} passed, ${failed} failed`);
if (jobs.length === 0) {
  console.log('no docs blocks or examples found');
  process.exitCode = 1;
}
if (failed > 0) process.exitCode = 1;
