import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isoMasterSpec,
  simOf,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../provider-virtualbox/test-support/vbox-env.js';
import { runCliProcess } from '../test-support/spawn-cli.js';
import { vboxProject } from '../test-support/vbox-project.js';

// `vmkit up --share` through the real binary, on the VirtualBox simulator: the machine gets the
// permanent shared folders VirtualBox would mount, a read-only one not writable; a host directory
// that is missing is refused (exit 2) naming the field and the path, before any machine is made.

let env: VboxTestEnv;
let dir: string;
let vars: NodeJS.ProcessEnv;
const cli = (...args: string[]) => runCliProcess(args, dir, vars);

beforeAll(async () => {
  env = await vboxTestEnv();
  ({ dir, vars } = await vboxProject(env, [await isoMasterSpec(env, 'tiny')]));
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'data'));
});
afterAll(async () => {
  await env?.close();
});

describe('vmkit up --share', () => {
  it('gives the nodes the shared folders (relative host paths from the working directory, :ro read-only)', async () => {
    const up = await cli(
      'up',
      'web',
      '-n',
      '1',
      '--share',
      'src:/mnt/src',
      '--share',
      `${dir}/data:/data:ro`,
      '--json',
    );
    expect(up.code, up.stderr).toBe(0);
    const [node] = JSON.parse(up.stdout) as Array<{ name: string }>;
    const machine = simOf(env)
      .machines()
      .find((m) => m.name.endsWith(node?.name as string));
    expect(machine?.sharedFolders).toEqual([
      { name: 'vmkit0', hostPath: join(dir, 'src'), writable: true, autoMount: false, autoMountPoint: '' },
      { name: 'vmkit1', hostPath: join(dir, 'data'), writable: false, autoMount: false, autoMountPoint: '' },
    ]);
  });

  it('refuses a missing host directory or a malformed value (exit 2), making nothing', async () => {
    const before = simOf(env).machines().length;
    writeFileSync(join(dir, 'file'), 'x');
    const missing = await cli('up', 'db', '-n', '1', '--share', 'nowhere:/mnt/x');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      `sharedFolders[0].hostPath: must be an existing directory of the host: ${join(dir, 'nowhere')} does not exist`,
    );
    const file = await cli('up', 'db', '-n', '1', '--share', 'file:/mnt/x');
    expect(file.code).toBe(2);
    expect(file.stderr).toContain(`${join(dir, 'file')} is not a directory`);
    const bad = await cli('up', 'db', '-n', '1', '--share', 'src:mnt');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--share <host:guest\[:ro\]>' argument 'src:mnt' is invalid\. must be HOST:GUEST/,
    );
    expect(simOf(env).machines().length).toBe(before);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
  });
});
