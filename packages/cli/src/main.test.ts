import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readIso9660 } from '@vmkit/imaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-support/run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const COMMANDS = [
  'images',
  'build',
  'up',
  'ls',
  'destroy',
  'exec',
  'cp',
  'ssh',
  'prune',
  'reap',
  'df',
  'seed',
  'iso',
  'iso ls',
  'iso cat',
  'inspect',
  'remaster',
  'import',
  'export',
];

describe('vmkit help, version and usage errors', () => {
  it('lists every command, the configuration and the exit codes', async () => {
    const run = await runCli(['--help'], dir);
    expect(run.code).toBe(0);
    for (const c of [
      'images',
      'build',
      'up',
      'ls',
      'destroy',
      'exec',
      'cp',
      'ssh',
      'prune',
      'df',
      'seed',
      'iso',
      'inspect',
      'remaster',
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
    expect(run.stdout).toContain('VMKIT_URI');
    expect(run.stdout).toContain('130 interrupted');
  });

  it.each(COMMANDS)('%s --help shows an example', async (command) => {
    const run = await runCli([...command.split(' '), '--help'], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Example:\n {2}vmkit /);
  });

  it('prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const run = await runCli(['--version'], dir);
    expect(run).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('exits 2 on an unknown option, a missing option or a bad value', async () => {
    expect((await runCli(['ls', '--bogus'], dir)).code).toBe(2);
    expect((await runCli(['up', 'web'], dir)).stderr).toMatch(/required option '-n, --count <n>'/);
    const bad = await runCli(['up', 'web', '-n', 'zero'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/must be an integer from 1 to 1000/);
    expect((await runCli(['prune', '--unused-for', 'soon'], dir)).stderr).toMatch(/must be a duration/);
  });
});

describe('vmkit configuration errors', () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      'a field of the wrong shape',
      '{"provider":{"namePrefix":"a b"}}',
      /: provider\.namePrefix: must be 1-20 letters/,
    ],
    ['an unknown field', '{"store":{"dir":"x","s3":{}}}', /: store\.s3: is not a known field/],
    [
      'an image spec core refuses',
      '{"images":[{"id":"Bad Id","os":{},"source":{}}]}',
      /: images\[0\]\.id: must be 1-63/,
    ],
    ['text that is not JSON', '{"provider":', /: cannot be read as a vmkit config \(/],
    [
      'a provider type vmkit has not got',
      '{"provider":{"type":"hyperv"}}',
      /: provider\.type: must be one of libvirt, virtualbox\n/,
    ],
    ['a provider that is not an object', '{"provider":"virtualbox"}', /: provider: must be an object\n/],
    [
      'a VirtualBox field of the wrong shape',
      '{"provider":{"type":"virtualbox","url":"ftp://host/"}}',
      /: provider\.url: must be an http\(s\) URL of vboxwebsrv/,
    ],
    [
      'a VirtualBox field under libvirt',
      '{"provider":{"url":"http://127.0.0.1:18083/"}}',
      /: provider\.url: is a virtualbox option, and the provider is libvirt \(set provider\.type: "virtualbox"\)\n/,
    ],
    [
      'a libvirt field under VirtualBox',
      '{"provider":{"type":"virtualbox","pool":"vmkit"}}',
      /: provider\.pool: is a libvirt option, and the provider is virtualbox/,
    ],
  ];
  it.each(cases)('%s: one line naming the file, the field and the rule; exit 2', async (_, text, rule) => {
    const project = join(dir, `bad-${Math.random().toString(36).slice(2)}`);
    await mkdir(join(project, 'deep', 'er'), { recursive: true });
    const file = join(project, 'vmkit.config.json');
    await writeFile(file, text);
    // Found from a subdirectory: the file is looked for from the working directory up.
    const run = await runCli(['ls'], join(project, 'deep', 'er'));
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(new RegExp(`^vmkit: ${file.replace(/[.]/g, '\\.')}`));
    expect(run.stderr).toMatch(rule);
  });

  it('takes VMKIT_CONFIG over the file found, and --config over VMKIT_CONFIG', async () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    await writeFile(a, '{"provider":{"pool":""}}');
    await writeFile(b, '{"ports":{"leaseDir":3}}');
    const byEnv = await runCli(['ls'], dir, { VMKIT_CONFIG: a });
    expect(byEnv.stderr).toContain(`${a}: provider.pool: must be a non-empty string`);
    const byFlag = await runCli(['--config', b, 'ls'], dir, { VMKIT_CONFIG: a });
    expect(byFlag.stderr).toContain(`${b}: ports.leaseDir: must be a non-empty string`);
  });
});

describe('vmkit provider errors', () => {
  /** A project whose config holds `provider`, with a store (so commands open the provider). */
  async function project(provider: unknown): Promise<string> {
    const folder = join(dir, `p-${Math.random().toString(36).slice(2)}`);
    await mkdir(join(folder, 'store'), { recursive: true });
    await writeFile(join(folder, 'vmkit.config.json'), JSON.stringify({ provider, store: { dir: 'store' } }));
    return folder;
  }

  it('--provider and VMKIT_PROVIDER name themselves when they name no provider; exit 2', async () => {
    const folder = await project({});
    const flag = await runCli(['--provider', 'hyperv', 'ls'], folder);
    expect(flag).toMatchObject({
      code: 2,
      stderr: 'vmkit: --provider: must be one of libvirt, virtualbox (got "hyperv")\n',
    });
    const env = await runCli(['ls'], folder, { VMKIT_PROVIDER: 'xen' });
    expect(env).toMatchObject({
      code: 2,
      stderr: 'vmkit: VMKIT_PROVIDER: must be one of libvirt, virtualbox (got "xen")\n',
    });
    const pool = await runCli(['--provider', 'virtualbox', '--pool', 'p', 'ls'], folder);
    expect(pool).toMatchObject({
      code: 2,
      stderr: 'vmkit: --pool: is a libvirt option, and the provider is virtualbox\n',
    });
  });

  it('an option the provider itself refuses is one line naming provider.<option>, before connecting; exit 2', async () => {
    // Options the command line does not list reach the provider, which checks them.
    const vbox = await runCli(['ls'], await project({ type: 'virtualbox', stopGraceMs: -1 }));
    expect(vbox).toMatchObject({
      code: 2,
      stderr: 'vmkit: provider.stopGraceMs: must be an integer at least 0 (got -1)\n',
    });
    const libvirt = await runCli(['ls'], await project({ machine: 'isa' }));
    expect(libvirt).toMatchObject({ code: 2, stderr: "vmkit: provider.machine: must be 'pc' or 'q35'\n" });
    const url = await runCli(
      ['--provider', 'virtualbox', '--uri', 'http://u:p@host/', 'ls'],
      await project({}),
    );
    expect(url).toMatchObject({
      code: 2,
      stderr: 'vmkit: provider.url: must not carry credentials; use username/password\n',
    });
  });
});

describe('vmkit seed and iso', () => {
  it('writes a NoCloud seed as cloud-localds does (positional arguments), which iso ls and cat read back', async () => {
    const userData = join(dir, 'user-data');
    await writeFile(userData, '#cloud-config\nruncmd: [echo hi]\n');
    const seed = join(dir, 'seed.iso');
    const run = await runCli(['seed', seed, userData, '-H', 'node-1'], dir);
    expect(run).toMatchObject({ code: 0, stdout: '' });
    const iso = await readIso9660(seed);
    expect(iso.volumeId).toBe('cidata');
    expect(new TextDecoder().decode(await iso.readFile('meta-data'))).toMatch(
      /instance-id: "?iid-local01"?\nlocal-hostname: "?node-1"?/,
    );
    const ls = await runCli(['iso', 'ls', seed, '--json'], dir);
    expect(
      (JSON.parse(ls.stdout) as { files: Array<{ path: string }> }).files.map((f) => f.path).sort(),
    ).toEqual(['meta-data', 'user-data']);
    const cat = await runCli(['iso', 'cat', seed, 'user-data'], dir);
    expect(cat.stdoutBytes.toString()).toBe('#cloud-config\nruncmd: [echo hi]\n');
    const missing = await runCli(['iso', 'cat', seed, 'nope'], dir);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no entry 'nope'/);
  });

  it('refuses a missing user data argument (2) and a qcow2 disk format (8), writing nothing', async () => {
    const out = join(dir, 'none.iso');
    expect((await runCli(['seed', '-o', out], dir)).code).toBe(2);
    const ud = join(dir, 'ud2');
    await writeFile(ud, 'x');
    expect((await runCli(['seed', out, ud, '-d', 'qcow2'], dir)).code).toBe(8);
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  });
});
