import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix } from '../../provider-libvirt/test-support/test-guest.js';
import { providerLoads } from '../test-support/provider-loads.js';
import { runCli } from '../test-support/run-cli.js';
import { runCliProcess } from '../test-support/spawn-cli.js';

// CI teardown and scripting through the built binary, on qemu:///system (no guest is booted:
// the libvirt test boots one for `up --wait` and `-p HOST:GUEST`).
const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('o');
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmkit-cli-ops-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A project folder with a config naming a libvirt prefix of this run only. */
async function project(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  await writeFile(
    join(dir, 'vmkit.config.json'),
    JSON.stringify({ provider: { uri: URI, pool: POOL, namePrefix: prefix }, store: { dir: 'store' } }),
  );
  return dir;
}

describe('vmkit for scripts', () => {
  it('read-only commands in a folder without configuration create no store: they say there is none (exit 3)', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    for (const command of ['images', 'ls', 'df']) {
      const run = await runCliProcess([command], empty, { HOME: root });
      expect(run.code, `${command}: ${run.stderr}`).toBe(3);
      expect(run.stderr).toContain(`vmkit: no store at ${join(empty, '.vmkit', 'store')}`);
      expect(run.stderr).toContain('no vmkit.config.json was found');
      expect(run.stderr).toMatch(/vmkit build IMAGE or vmkit up GROUP to make one/);
      expect(run.stdout).toBe('');
    }
    expect(readdirSync(empty)).toEqual([]);
    // With a config, its store is named.
    const dir = await project('configured');
    const run = await runCliProcess(['images', '--json'], dir, { HOME: root });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      `no store at ${join(dir, 'store')} (named by ${join(dir, 'vmkit.config.json')})`,
    );
    expect(existsSync(join(dir, 'store'))).toBe(false);
  });

  it('destroy --if-exists of a group already gone is exit 0, twice, and --json says nothing was removed', async () => {
    const dir = await project('teardown');
    // No store yet (nothing was ever made): nothing to destroy, and still no store.
    for (let i = 0; i < 2; i++) {
      const run = await runCliProcess(['destroy', 'web', '--if-exists', '--json'], dir, { HOME: root });
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual([]);
    }
    expect(existsSync(join(dir, 'store'))).toBe(false);
    // A store that exists: libvirt is asked, and has no such group.
    await mkdir(join(dir, 'store'));
    for (let i = 0; i < 2; i++) {
      const run = await runCliProcess(['destroy', 'web', 'web-1a2b', '--if-exists'], dir, { HOME: root });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe('nothing to destroy\n');
    }
    const strict = await runCliProcess(['destroy', 'web'], dir, { HOME: root });
    expect(strict.code).toBe(3);
    expect(strict.stderr).toBe('vmkit: no node or group named web (--if-exists makes that not an error)\n');
    expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [] });
  });

  it('-p errors name -p and the rule (exit 2); a fixed host port fits one node only', async () => {
    const dir = await project('ports');
    for (const bad of ['8080:', 'x/tcp', '80/sctp', '70000', '8080:80:1']) {
      const run = await runCliProcess(['up', 'web', '-n', '1', '-p', bad], dir, { HOME: root });
      expect(run.code, bad).toBe(2);
      expect(run.stderr).toContain(
        `option '-p, --port <[host:]guest[/tcp|udp]>' argument '${bad}' is invalid`,
      );
      expect(run.stderr).toContain('must be GUEST[/tcp|udp] or HOST:GUEST[/tcp|udp]');
    }
    const twice = await runCliProcess(['up', 'web', '-n', '2', '-p', '8080:80'], dir, { HOME: root });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe(
      'vmkit: -p: 8080:80 fixes the host port, which fits one node only: use -n 1, or -p 80 for a free host port per node\n',
    );
    expect(existsSync(join(dir, 'store'))).toBe(false);
  });

  it('--wait refuses what it cannot check, before making anything', async () => {
    const dir = await project('wait');
    const noSsh = await runCliProcess(['up', 'web', '-n', '1', '-p', '80', '--wait=ssh'], dir, {
      HOME: root,
    });
    expect(noSsh.code).toBe(2);
    expect(noSsh.stderr).toBe('vmkit: --wait: ssh needs a forward of guest port 22 to check (add -p 22)\n');
    const noPort = await runCliProcess(['up', 'web', '-n', '1', '--wait'], dir, { HOME: root });
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toBe('vmkit: --wait: needs a TCP port forward to check (add -p PORT)\n');
    const bad = await runCliProcess(['up', 'web', '-n', '1', '-p', '80', '--wait=tcp'], dir, { HOME: root });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('must be port, http:/PATH, agent or ssh');
    const timeout = await runCliProcess(['up', 'web', '-n', '1', '--wait-timeout', '10s'], dir, {
      HOME: root,
    });
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toBe('vmkit: --wait-timeout: needs --wait\n');
    expect(existsSync(join(dir, 'store'))).toBe(false);
  });

  it('loads @vmkit/provider-libvirt only: the VirtualBox provider package is never imported', async () => {
    const dir = await project('libvirt-only');
    await mkdir(join(dir, 'store'));
    providerLoads.clear();
    const ls = await runCli(['ls', '--json'], dir, { HOME: root });
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toEqual([]);
    expect([...providerLoads]).toEqual(['libvirt']);
  });
});
