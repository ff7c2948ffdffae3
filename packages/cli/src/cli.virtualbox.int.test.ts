import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isoMasterSpec,
  simOf,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../provider-virtualbox/test-support/vbox-env.js';
import { providerLoads } from '../test-support/provider-loads.js';
import { runCli } from '../test-support/run-cli.js';
import { runCliProcess } from '../test-support/spawn-cli.js';
import { vboxProject } from '../test-support/vbox-project.js';

// `vmkit` on VirtualBox, as cli.libvirt/cli.ops do on libvirt: the strict simulator of vboxwebsrv
// runs in this process, the commands in child processes (the real binary) that reach it over HTTP.

let env: VboxTestEnv;
let dir: string;
/** The connection, from the environment (see vboxProject). */
let vars: NodeJS.ProcessEnv;
const cli = (...args: string[]) => runCliProcess(args, dir, vars);
const ours = (name: string) => name.startsWith(env.prefix);

beforeAll(async () => {
  env = await vboxTestEnv();
  ({ dir, vars } = await vboxProject(env, [await isoMasterSpec(env, 'tiny')]));
});
afterAll(async () => {
  await env?.close();
});

describe('the vmkit binary on VirtualBox (simulator)', () => {
  it('up builds the master and clones two running nodes with forwarded ports; ls --json lists them', async () => {
    const up = await cli('up', 'web', '-n', '2', '-p', '22', '--json');
    expect(up.code, up.stderr).toBe(0);
    const made = JSON.parse(up.stdout) as Array<{ name: string; group: string }>;
    expect(made).toHaveLength(2);
    const machines = simOf(env)
      .machines()
      .filter((m) => ours(m.name));
    for (const node of made) {
      const machine = machines.find((m) => m.name.endsWith(node.name));
      expect(machine?.state, node.name).toBe('Running');
      expect(machine?.redirects).toEqual([expect.objectContaining({ guestPort: 22 })]);
    }
    const ls = await cli('ls', '--json');
    expect(ls.code, ls.stderr).toBe(0);
    const listed = JSON.parse(ls.stdout) as Array<{
      name: string;
      group: string;
      status: string;
      imageId: string;
    }>;
    expect(listed.map((n) => n.name).sort()).toEqual(made.map((n) => n.name).sort());
    expect(listed.every((n) => n.group === 'web' && n.status === 'running' && n.imageId === 'tiny')).toBe(
      true,
    );
    const images = JSON.parse((await cli('images', '--json')).stdout) as Array<{
      id: string;
      status: string;
    }>;
    expect(images).toEqual([expect.objectContaining({ id: 'tiny', status: 'available' })]);
  });

  // Needs VirtualBox's disk usage (masterDiskUsage, nodeDiskUsage): branch vhk.
  it('df reports the sizes of the master and of each node', async () => {
    const df = await cli('df', '--json');
    expect(df.code, df.stderr).toBe(0);
    const report = JSON.parse(df.stdout) as {
      masters: Array<{ imageId: string; role: string; nodes: number; virtualBytes: number }>;
      nodes: Array<{ group: string; virtualBytes: number }>;
      total: { allocatedBytes: number; virtualBytes: number };
    };
    expect(report.masters).toEqual([expect.objectContaining({ imageId: 'tiny', role: 'current', nodes: 2 })]);
    // The spec's disk is 1 GiB: the master's virtual size; each linked clone has its own overlay.
    expect(report.masters[0]?.virtualBytes).toBe(1024 ** 3);
    expect(report.nodes.map((n) => n.group)).toEqual(['web', 'web']);
    for (const node of report.nodes) expect(node.virtualBytes).toBeGreaterThan(0);
    expect(report.total.virtualBytes).toBeGreaterThan(1024 ** 3);
  });

  it('destroy removes the group: machines, overlays and config drives', async () => {
    const before = simOf(env)
      .machines()
      .filter((m) => ours(m.name) && m.name.includes('web-'));
    expect(before).toHaveLength(2);
    const destroy = await cli('destroy', 'web');
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(
      simOf(env)
        .machines()
        .filter((m) => ours(m.name) && m.name.includes('web-')),
    ).toEqual([]);
    const ls = await cli('ls', '--json');
    expect(JSON.parse(ls.stdout)).toEqual([]);
    const nodeMedia = before.flatMap((m) => m.media);
    expect(
      simOf(env)
        .media()
        .filter((m) => nodeMedia.includes(m.location) && m.parent),
    ).toEqual([]);
  });

  it('prune removes the master no node uses: its machine, its disk and its record', async () => {
    const master = simOf(env)
      .machines()
      .find((m) => ours(m.name) && !m.name.includes('web-'));
    expect(master).toBeDefined();
    const disks = simOf(env)
      .media()
      .filter((m) => master?.media.includes(m.location) && m.deviceType === 'HardDisk')
      .map((m) => m.location);
    expect(disks).toHaveLength(1);
    const prune = await cli('prune', '--json');
    expect(prune.code, prune.stderr).toBe(0);
    const result = JSON.parse(prune.stdout) as { removed: Array<{ kind: string; id: string }> };
    expect(result.removed).toEqual([expect.objectContaining({ kind: 'image', id: 'tiny' })]);
    expect(
      simOf(env)
        .machines()
        .filter((m) => ours(m.name)),
    ).toEqual([]);
    expect(
      simOf(env)
        .media()
        .map((m) => m.location),
    ).not.toContain(disks[0]);
    expect(simOf(env).deletedMedia()).toContain(disks[0]);
    const images = JSON.parse((await cli('images', '--json')).stdout) as Array<{ status: string }>;
    expect(images).toEqual([expect.objectContaining({ status: 'buildable' })]);
  });

  it('loads @vmkit/provider-virtualbox only: the libvirt provider package is never imported', async () => {
    providerLoads.clear();
    const ls = await runCli(['ls', '--json'], dir, vars);
    expect(ls.code, ls.stderr).toBe(0);
    expect([...providerLoads]).toEqual(['virtualbox']);
  });
});
