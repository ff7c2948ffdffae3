// A new user's install, as the README describes it until the packages are published: every
// workspace package packed with `npm pack`, the tarballs installed into a fresh project without
// dev dependencies, then every public entry imported by plain Node, the getting-started guide's
// code and the examples compiled by tsc with the tsconfig the guide states and run on this Node
// (20 here) and on the newest Node the npm registry carries,
// the CLI tarball installed alone, and the package READMEs' links followed inside the tarballs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutput, expectedLines } from './lib/expected-output.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The newest Node this machine can get (from the npm registry's `node-<os>-<arch>` package, which
 * carries the binary): the imports, the guide and the examples also run on it, beside this Node.
 */
const NEWEST_NODE = `node-${process.platform}-${process.arch}@26.12.1`;

/** Entries that need an optional peer dependency, with that peer: they must fail naming it. */
const NEEDS_OPTIONAL_PEER: Readonly<Record<string, string>> = { '@vmkit/core/contract': 'vitest' };

/** Examples that are only type-checked here, with the reason they cannot run outside the checkout. */
const TYPE_CHECK_ONLY: Readonly<Record<string, string>> = {
  'quickstart.ts': "boots real VMs on libvirt from the checkout's test guest",
};

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without what `npm test` passes to its scripts (npm_config_* would steer npm). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')),
  );
}

function run(command: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

/** Runs a command that must succeed; its output is in the error when it does not. */
async function must(command: string, args: readonly string[], cwd: string): Promise<Run> {
  const result = await run(command, args, cwd);
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** The fenced blocks of a markdown text whose info string starts with `lang`. */
function codeBlocks(markdown: string, lang: string): Array<{ info: string; code: string }> {
  return [...markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)]
    .filter((m) => (m[1] ?? '').split(' ')[0] === lang)
    .map((m) => ({ info: m[1] ?? '', code: m[2] ?? '' }));
}

interface Manifest {
  name: string;
  version: string;
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

let work = '';
let tarballs: Array<{ name: string; file: string }> = [];
const tools: string[] = [];
let cliInstall: Promise<Run> = Promise.resolve({ code: 1, stdout: '', stderr: 'not installed' });
const app = () => join(work, 'app');
const cliOnly = () => join(work, 'cli-only');
/** The Node binaries everything runs on: this one, then the newest (installed by beforeAll). */
const nodes = () => [
  process.execPath,
  join(work, 'newest-node', 'node_modules', NEWEST_NODE.split('@')[0] ?? '', 'bin', 'node'),
];
const installed = (dir: string, name: string) => join(dir, 'node_modules', ...name.split('/'));

/** A fresh project in `dir` with `packages` installed as the README says: no dev dependencies. */
async function install(dir: string, packages: readonly string[], extra = tools): Promise<Run> {
  try {
    await mkdir(dir);
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'user', private: true, type: 'module' }),
    );
    return await run(
      'npm',
      ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', ...packages, ...extra],
      dir,
    );
  } catch (error) {
    return { code: 1, stdout: '', stderr: String(error) };
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vmkit-install-'));
  const tgz = join(work, 'tgz');
  await mkdir(tgz);
  // The tarballs carry dist/: build it first (incremental; `npm pack` bundles the CLI itself).
  await must(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], repo);
  const workspaces = (await readJson<{ workspaces: string[] }>(join(repo, 'package.json'))).workspaces.filter(
    (w) => w.startsWith('packages/'),
  );
  const packed = await must(
    'npm',
    ['pack', '--json', '--pack-destination', tgz, ...workspaces.flatMap((w) => ['-w', w])],
    repo,
  );
  tarballs = (JSON.parse(packed.stdout) as Array<{ name: string; filename: string }>).map((p) => ({
    name: p.name,
    file: join(tgz, p.filename),
  }));
  expect(tarballs).toHaveLength(workspaces.length);

  // The user's tools, at the versions this repository builds with (npm's cache has them).
  for (const name of ['typescript', '@types/node'])
    tools.push(
      `${name}@${(await readJson<Manifest>(join(repo, 'node_modules', name, 'package.json'))).version}`,
    );
  // The CLI alone installs beside the full project; its own test reads the outcome.
  cliInstall = install(
    cliOnly(),
    tarballs.filter((t) => t.name === '@vmkit/cli').map((t) => t.file),
  );
  const newest = install(join(work, 'newest-node'), [NEWEST_NODE], []);
  const full = await install(
    app(),
    tarballs.map((t) => t.file),
  );
  expect(full.code, `${full.stdout}\n${full.stderr}`).toBe(0);
  const node = await newest;
  expect(node.code, `${node.stdout}\n${node.stderr}`).toBe(0);
  await cliInstall;
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe(`installed from tarballs without dev dependencies, on Node ${process.versions.node} and ${NEWEST_NODE}`, () => {
  it('imports every public entry of every package in plain Node', async () => {
    const specifiers: string[] = [];
    for (const { name } of tarballs) {
      const manifest = await readJson<Manifest>(join(installed(app(), name), 'package.json'));
      for (const subpath of Object.keys(manifest.exports ?? { '.': {} }))
        specifiers.push(subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`);
    }
    expect(specifiers).toContain('@vmkit/core/testing');
    await writeFile(
      join(app(), 'import-all.mjs'),
      `const out = {};\nfor (const s of ${JSON.stringify(specifiers)}) {\n` +
        '  try { out[s] = Object.keys(await import(s)).length; } catch (e) { out[s] = String(e.message); }\n' +
        '}\nconsole.log(JSON.stringify(out));\n',
    );
    const results: Array<[string, number | string]> = [];
    for (const node of nodes()) {
      const out = JSON.parse((await must(node, ['import-all.mjs'], app())).stdout) as Record<
        string,
        number | string
      >;
      results.push(...Object.entries(out).map(([s, r]): [string, number | string] => [`${s} (${node})`, r]));
    }
    for (const [labelled, result] of results) {
      const specifier = labelled.split(' ')[0] ?? '';
      const peer = NEEDS_OPTIONAL_PEER[specifier];
      if (peer === undefined) {
        expect(typeof result === 'number' && result > 0, `${labelled}: ${result}`).toBe(true);
        continue;
      }
      expect(result, labelled).toMatch(new RegExp(`Cannot find package '${peer}'`));
      const owner = await readJson<Manifest>(
        join(installed(app(), specifier.split('/').slice(0, 2).join('/')), 'package.json'),
      );
      expect(
        owner.peerDependenciesMeta?.[peer]?.optional,
        `${peer} is an optional peer of ${owner.name}`,
      ).toBe(true);
    }
  });

  it("compiles the getting-started guide's code and the examples with the guide's tsconfig, and runs them", async () => {
    const guide = await readFile(join(repo, 'docs', 'getting-started.md'), 'utf8');
    const config = codeBlocks(guide, 'json')
      .map((b) => JSON.parse(b.code) as { compilerOptions?: Record<string, unknown> })
      .find((c) => c.compilerOptions !== undefined);
    expect(config?.compilerOptions, 'docs/getting-started.md states a tsconfig.json').toMatchObject({
      module: 'nodenext',
      strict: true,
    });
    const src = join(app(), 'src');
    await mkdir(src);
    const programs: Array<{ file: string; expected: string[] }> = [];
    for (const [i, block] of codeBlocks(guide, 'ts').entries()) {
      if (block.info.includes('nocheck')) continue;
      await writeFile(join(src, `guide-${i + 1}.ts`), block.code);
      programs.push({ file: `guide-${i + 1}.js`, expected: expectedLines(block.code) });
    }
    expect(programs.length).toBeGreaterThanOrEqual(1);
    for (const example of (await readdir(join(repo, 'examples'))).filter((f) => f.endsWith('.ts'))) {
      const code = await readFile(join(repo, 'examples', example), 'utf8');
      await writeFile(join(src, example), code);
      if (code.split('\n').slice(0, 5).join('\n').includes('check: run') && !(example in TYPE_CHECK_ONLY))
        programs.push({ file: example.replace(/\.ts$/, '.js'), expected: expectedLines(code) });
    }
    // Only where files go is added to the guide's settings.
    const tsconfig = {
      ...config,
      compilerOptions: { ...config?.compilerOptions, rootDir: 'src', outDir: 'dist' },
      include: ['src'],
    };
    await writeFile(join(app(), 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    await must(process.execPath, [join(app(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app());
    for (const node of nodes())
      for (const program of programs) {
        const result = await run(node, [join('dist', program.file)], app());
        const label = `${program.file} on ${node}`;
        expect(result.code, `${label}\n${result.stdout}\n${result.stderr}`).toBe(0);
        expect(compareOutput(program.expected, result.stdout), label).toBeUndefined();
      }
  });

  it('installs the CLI tarball alone: no dependencies, its bin and its entry run, its types check', async () => {
    const installation = await cliInstall;
    expect(
      installation.code,
      `npm install of the CLI tarball alone\n${installation.stdout}\n${installation.stderr}`,
    ).toBe(0);
    const modules = await readdir(join(cliOnly(), 'node_modules', '@vmkit'));
    expect(modules).toEqual(['cli']);
    const manifest = await readJson<Manifest>(join(installed(cliOnly(), '@vmkit/cli'), 'package.json'));
    expect(manifest.dependencies ?? {}).toEqual({});
    const bin = join(cliOnly(), 'node_modules', '.bin', 'vmkit');
    expect((await must(bin, ['--version'], cliOnly())).stdout.trim()).toBe(manifest.version);
    // A command that loads core and imaging: a NoCloud seed, then read back.
    await writeFile(join(cliOnly(), 'user-data'), '#cloud-config\n');
    await must(bin, ['seed', 'seed.iso', 'user-data'], cliOnly());
    expect((await must(bin, ['iso', 'cat', 'seed.iso', 'user-data'], cliOnly())).stdout).toBe(
      '#cloud-config\n',
    );
    await mkdir(join(cliOnly(), 'src'));
    await writeFile(
      join(cliOnly(), 'src', 'wrap.ts'),
      "import { type CliIo, EXIT_CODES, main } from '@vmkit/cli';\n" +
        'const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };\n' +
        "const code: number = await main(['--version'], io);\n" +
        "if (code !== EXIT_CODES.OK) throw new Error('vmkit --version failed');\n",
    );
    await writeFile(
      join(cliOnly(), 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, outDir: 'dist' },
      }),
    );
    await must(
      process.execPath,
      [join(cliOnly(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'],
      cliOnly(),
    );
    expect((await must(process.execPath, [join('dist', 'wrap.js')], cliOnly())).stdout.trim()).toBe(
      manifest.version,
    );
  });

  it("links from every package's README only to what its tarball carries, or to absolute URLs", async () => {
    for (const name of await readdir(join(app(), 'node_modules', '@vmkit'))) {
      const dir = installed(app(), `@vmkit/${name}`);
      const readme = await readFile(join(dir, 'README.md'), 'utf8');
      for (const [, target] of readme.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (target === undefined || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
        const path = resolve(dir, target.split('#')[0] ?? '');
        expect(
          path.startsWith(`${dir}/`) && existsSync(path),
          `@vmkit/${name} README links to ${target}`,
        ).toBe(true);
      }
    }
  });

  it("matches the README's table of the tarballs each package needs", async () => {
    const readme = await readFile(join(repo, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| package | needs the tarballs of |')).split('\n\n')[0] ?? '';
    const names = (cell: string) => [...cell.matchAll(/`(@vmkit\/[a-z0-9-]+)`/g)].map((m) => m[1] ?? '');
    const stated = new Map<string, string[]>();
    for (const row of table.split('\n').slice(2)) {
      const [, packages = '', needs = ''] = row.split('|');
      for (const name of names(packages)) stated.set(name, names(needs).sort());
    }
    expect([...stated.keys()].sort()).toEqual(tarballs.map((t) => t.name).sort());
    const needs = async (name: string, seen = new Set<string>()): Promise<Set<string>> => {
      const manifest = await readJson<Manifest>(join(installed(app(), name), 'package.json'));
      for (const dep of Object.keys(manifest.dependencies ?? {}).filter((d) => d.startsWith('@vmkit/')))
        if (!seen.has(dep)) await needs(dep, seen.add(dep));
      return seen;
    };
    for (const [name, listed] of stated) expect(listed, name).toEqual([...(await needs(name))].sort());
  });
});
