import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/vmkit.js', import.meta.url));

// A fake checkout: bin/vmkit.js beside a bundle and a compiled dist/ that only say which they are.
let root: string;
const cli = () => join(root, 'packages', 'cli');
const which = (name: string) =>
  `export async function main() { process.stdout.write(${JSON.stringify(name)}); return 0; }\n`;

async function runBin(): Promise<string> {
  return (await exec(process.execPath, [join(cli(), 'bin', 'vmkit.js')])).stdout;
}

async function setTime(path: string, seconds: number): Promise<void> {
  await utimes(path, seconds, seconds);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmkit-bin-'));
  await mkdir(join(cli(), 'bin'), { recursive: true });
  await mkdir(join(cli(), 'dist', 'bundle'), { recursive: true });
  await mkdir(join(root, 'packages', 'core', 'dist'), { recursive: true });
  await copyFile(BIN, join(cli(), 'bin', 'vmkit.js'));
  await writeFile(join(cli(), 'package.json'), '{"type":"module"}');
  await writeFile(join(cli(), 'dist', 'main.js'), which('dist'));
  await writeFile(join(cli(), 'dist', 'bundle', 'vmkit.js'), which('bundle'));
  await writeFile(join(cli(), 'dist', '.tsbuildinfo'), '{}');
  await writeFile(join(root, 'packages', 'core', 'dist', '.tsbuildinfo'), '{}');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('bin/vmkit.js', () => {
  it('runs the bundle when it is newer than every package build', async () => {
    await setTime(join(cli(), 'dist', '.tsbuildinfo'), 1000);
    await setTime(join(root, 'packages', 'core', 'dist', '.tsbuildinfo'), 1000);
    await setTime(join(cli(), 'dist', 'bundle', 'vmkit.js'), 2000);
    expect(await runBin()).toBe('bundle');
  });

  it("runs the compiled dist/ when a dependency's tsc -b output is newer than the bundle", async () => {
    await setTime(join(root, 'packages', 'core', 'dist', '.tsbuildinfo'), 3000);
    expect(await runBin()).toBe('dist');
  });

  it("runs the compiled dist/ when the command's own tsc -b output is newer than the bundle", async () => {
    await setTime(join(root, 'packages', 'core', 'dist', '.tsbuildinfo'), 1000);
    await setTime(join(cli(), 'dist', '.tsbuildinfo'), 3000);
    expect(await runBin()).toBe('dist');
  });

  it('runs the compiled dist/ when there is no bundle', async () => {
    await rm(join(cli(), 'dist', 'bundle'), { recursive: true });
    expect(await runBin()).toBe('dist');
  });
});
