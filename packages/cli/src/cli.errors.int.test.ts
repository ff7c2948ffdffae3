import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sweep } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix } from '../../provider-libvirt/test-support/test-guest.js';
import { runCliProcess, VMKIT_BIN } from '../test-support/spawn-cli.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('e');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-cli-errors-'));
const os = { family: 'linux', version: '1', arch: 'x86_64' };

/** A project folder holding `config` as its vmkit.config.json (store and leases inside it). */
function project(name: string, config: Record<string, unknown>): string {
  const folder = join(dir, name);
  // The store exists (read-only commands such as `images` say so and stop when it does not).
  mkdirSync(join(folder, 'store'), { recursive: true });
  writeFileSync(
    join(folder, 'vmkit.config.json'),
    JSON.stringify({
      provider: { uri: URI, pool: POOL, namePrefix: prefix },
      store: { dir: 'store' },
      ports: { leaseDir: 'leases' },
      ...config,
    }),
  );
  return folder;
}

/** Runs `command` in a real shell (so `|` is a real pipe); resolves with its exit code and output. */
function shell(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d) => (out.stdout += d));
    child.stderr.on('data', (d) => (out.stderr += d));
    child.on('close', (code) => resolve({ code, ...out }));
  });
}

const vmkit = `'${process.execPath}' '${VMKIT_BIN}'`;

/** One stderr line, with no stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

afterAll(async () => {
  await sweep(URI, prefix, POOL);
  rmSync(dir, { recursive: true, force: true });
});

describe('vmkit: failures of the user input are exit 2 naming the flag or field and the fix', () => {
  it('a --user-data file that does not exist (up and seed)', async () => {
    const folder = project('user-data', {});
    const missing = join(folder, 'cloud-config.yaml');
    const up = await runCliProcess(['up', 'web', '-n', '1', '--user-data', missing], folder);
    expect(up.code).toBe(2);
    expect(oneLine(up.stderr)).toBe(
      `vmkit: --user-data ${missing}: does not exist: give the path of a readable file`,
    );
    const seed = await runCliProcess(['seed', join(folder, 'seed.iso'), '--user-data', missing], folder);
    expect(seed.code).toBe(2);
    expect(oneLine(seed.stderr)).toMatch(/^vmkit: --user-data .*cloud-config\.yaml: does not exist: give/);
  });

  it('a --config file that does not exist names the flag', async () => {
    const missing = join(dir, 'nowhere', 'vmkit.config.json');
    const run = await runCliProcess(['--config', missing, 'images'], dir);
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toBe(
      `vmkit: --config ${missing}: does not exist: give the path of a vmkit.config.json or vmkit.config.mjs`,
    );
  });

  it('a master source path that does not exist: `images` shows the image broken naming the config field; `build` refuses it', async () => {
    const folder = project('missing-kernel', {
      images: [{ id: 'tiny', os, source: { type: 'kernel', kernel: 'boot/vmlinuz', initrd: 'boot/initrd' } }],
    });
    mkdirSync(join(folder, 'boot'));
    writeFileSync(join(folder, 'boot', 'initrd'), 'initrd');
    const json = await runCliProcess(['images', '--json'], folder);
    expect(json.code).toBe(0);
    const [image] = JSON.parse(json.stdout) as Array<{ id: string; status: string; statusDetail?: string }>;
    expect(image).toMatchObject({ id: 'tiny', status: 'broken' });
    expect(image?.statusDetail).toContain(
      `images[0].source.kernel: ${join(folder, 'boot/vmlinuz')} does not exist`,
    );
    const table = await runCliProcess(['images'], folder);
    expect(table.stdout).toMatch(/^tiny +broken/m);
    expect(table.stderr).toContain('image tiny is broken: images[0].source.kernel:');
    const refusal = `vmkit: ${join(folder, 'vmkit.config.json')}: images[0].source.kernel: ${join(folder, 'boot/vmlinuz')} does not exist (fix the path, or remove image tiny)`;
    for (const args of [
      ['build', 'tiny'],
      ['up', 'web', '-n', '1', '-i', 'tiny'],
      ['up', 'web', '-n', '1'], // the image the template picks
    ]) {
      const run = await runCliProcess(args, folder);
      expect(run.code).toBe(2);
      expect(oneLine(run.stderr)).toBe(refusal);
    }
  });

  it('an unknown key in an image spec lists the known keys', async () => {
    const folder = project('unknown-key', {
      images: [{ id: 'tiny', os, colour: 'red', source: { type: 'disk', path: '/dev/null' } }],
    });
    const run = await runCliProcess(['images'], folder);
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toMatch(
      /images\[0\]: unknown key "colour" \(known keys: id, name, os, source, hardware, login, postInstall, network, warm\)$/,
    );
  });

  it('an unknown key in the config lists the known keys', async () => {
    const folder = project('unknown-config-key', { colour: 'red' });
    const run = await runCliProcess(['images'], folder);
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toMatch(
      /colour: is not a known field \(known: \$schema, provider, store, images, ports\)$/,
    );
  });
});

describe('vmkit: other failures say what to do', () => {
  it('an unknown image lists the known ids (build and up -i), exit 3', async () => {
    const folder = project('unknown-image', {
      images: [
        { id: 'tiny', os, source: { type: 'disk', path: '/dev/null' } },
        { id: 'small', os, source: { type: 'disk', path: '/dev/null' } },
      ],
    });
    const build = await runCliProcess(['build', 'tine'], folder);
    expect(build.code).toBe(3);
    expect(oneLine(build.stderr)).toBe('vmkit: no image tine (known images: small, tiny)');
    const up = await runCliProcess(['up', 'web', '-n', '1', '-i', 'tine'], folder);
    expect(up.code).toBe(3);
    expect(oneLine(up.stderr)).toBe('vmkit: no image tine (known images: small, tiny)');
  });

  it("an unreachable qemu+ssh:// host carries ssh's own message, exit 5", async () => {
    mkdirSync(join(dir, 'ssh-store'), { recursive: true });
    const run = await runCliProcess(
      ['ls', '--uri', 'qemu+ssh://nobody@127.0.0.1:1/system', '--store', join(dir, 'ssh-store')],
      dir,
    );
    expect(run.code).toBe(5);
    const line = oneLine(run.stderr);
    expect(line).toContain('ssh: connect to host 127.0.0.1 port 1: Connection refused');
    expect(line).not.toContain('closed by the daemon');
  });

  it('a reader that closes the pipe early ends the output quietly: `vmkit --help | head -1` exits 0', async () => {
    for (const reader of ['head -1', 'true']) {
      const run = await shell(`${vmkit} --help | ${reader}; echo "vmkit exit \${PIPESTATUS[0]}" >&2`);
      expect(run.stderr).toBe('vmkit exit 0\n');
      if (reader === 'head -1') expect(run.stdout).toBe('Usage: vmkit [options] [command]\n');
    }
  });
});
