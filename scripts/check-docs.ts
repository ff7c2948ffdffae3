// Runs every ```ts block of docs/*.md (except ```ts nocheck) and every examples/*.ts script
// marked `// check: run` in its first lines, so guides and examples cannot rot. Each runs in its
// own process with tsx; a failure prints its output and fails the check.
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const scratch = join(root, 'examples', '.docs-check');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

function run(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(tsx, [file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

const jobs: Array<{ label: string; file: string }> = [];
await rm(scratch, { recursive: true, force: true });
await mkdir(scratch, { recursive: true });
for (const doc of (await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).sort()) {
  const text = await readFile(join(root, 'docs', doc), 'utf8');
  const blocks = [...text.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)];
  for (const [i, block] of blocks.entries()) {
    if ((block[1] ?? '').includes('nocheck')) continue;
    const file = join(scratch, `${doc.replace(/\.md$/, '')}-${i + 1}.mts`);
    await writeFile(file, block[2] ?? '');
    jobs.push({ label: `docs/${doc} block ${i + 1}`, file });
  }
}
for (const example of (await readdir(join(root, 'examples'))).filter((f) => f.endsWith('.ts')).sort()) {
  const head = (await readFile(join(root, 'examples', example), 'utf8')).split('\n').slice(0, 5).join('\n');
  if (head.includes('check: run'))
    jobs.push({ label: `examples/${example}`, file: join(root, 'examples', example) });
}

let failed = 0;
for (const job of jobs) {
  const started = performance.now();
  const { code, output } = await run(job.file);
  const ms = Math.round(performance.now() - started);
  if (code === 0) {
    console.log(`ok   ${job.label} (${ms} ms)`);
  } else {
    failed++;
    console.log(`FAIL ${job.label} (exit ${code})\n${output}`);
  }
}
await rm(scratch, { recursive: true, force: true });
console.log(`docs and examples: ${jobs.length - failed} passed, ${failed} failed`);
if (jobs.length === 0) {
  console.log('no docs blocks or examples found');
  process.exitCode = 1;
}
if (failed > 0) process.exitCode = 1;
