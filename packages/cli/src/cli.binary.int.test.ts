import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../test-support/spawn-cli.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-bin-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the installed vmkit binary', () => {
  it('runs as `npx vmkit` in the repository (the workspace bin)', async () => {
    const pkg = JSON.parse(await readFile(join(repo, 'packages/cli/package.json'), 'utf8'));
    const { stdout } = await promisify(execFile)('npx', ['vmkit', '--version'], { cwd: repo });
    expect(stdout).toBe(`${(pkg as { version: string }).version}\n`);
  });

  it('reports a bad config in one line naming the file, the field and the rule, with exit code 2', async () => {
    const project = join(dir, 'project');
    await mkdir(join(project, 'sub'), { recursive: true });
    const file = join(project, 'vmkit.config.json');
    await writeFile(file, JSON.stringify({ provider: { uri: 'qemu:///system' }, store: { dir: 7 } }));
    const run = await runCliProcess(['images'], join(project, 'sub'));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`vmkit: ${file}: store.dir: must be a non-empty string\n`);
    await writeFile(
      file,
      JSON.stringify({
        images: [
          { id: 'tiny', os: { family: 'linux', version: '1', arch: 'x86_64' }, source: { type: 'floppy' } },
        ],
      }),
    );
    const spec = await runCliProcess(['up', 'web', '-n', '1'], project);
    expect(spec.code).toBe(2);
    expect(spec.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(spec.stderr).toMatch(new RegExp(`^vmkit: ${file.replace(/[.]/g, '\\.')}: images\\[0\\]\\.source`));
  });
});
