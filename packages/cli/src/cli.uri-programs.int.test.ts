import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MarkerProgram, makeMarkerProgram } from '../../provider-libvirt/test-support/ssh.js';
import { runCliProcess } from '../test-support/spawn-cli.js';

// What a URI's ?command= would run as ssh; its folder is also the working directory.
let evil: MarkerProgram;
beforeAll(async () => {
  evil = await makeMarkerProgram();
  // The default store exists: `images` without one says so and stops before connecting.
  await mkdir(join(evil.dir, '.vmkit', 'store'), { recursive: true });
});
afterAll(async () => evil.dispose());

const env = { HOME: '/root' };

describe('a libvirt URI that chooses a program to run', () => {
  it('is refused on the command line, naming the parameter and the flag that allows it', async () => {
    const uri = `qemu+ssh://localhost/system?command=${evil.program}`;
    const run = await runCliProcess(['images', '--uri', uri], evil.dir, env);
    expect(evil.ran()).toBe(false);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `vmkit: uri: the parameter ?command= names the program run on this host as ssh (${evil.program}); refused unless allowed with --allow-uri-programs (or provider.allowUriPrograms: true in the config)\n`,
    );
    const netcat = await runCliProcess(
      ['images', '--uri', 'qemu+ssh://localhost/system?netcat=/x'],
      evil.dir,
      env,
    );
    expect(netcat.stderr).toMatch(/\?netcat= names the program run on the remote host/);

    const allowed = await runCliProcess(['--allow-uri-programs', 'images', '--uri', uri], evil.dir, env);
    expect(allowed.code).toBe(5);
    expect(evil.ran()).toBe(true);
    await evil.reset();
  });

  it('is refused from a config file unless the config allows it', async () => {
    const uri = `qemu+ssh://localhost/system?command=${evil.program}`;
    const config = join(evil.dir, 'vmkit.config.json');
    await writeFile(config, JSON.stringify({ provider: { uri } }));
    const run = await runCliProcess(['images'], evil.dir, env);
    expect(evil.ran()).toBe(false);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/uri: the parameter \?command= .*--allow-uri-programs/);

    await writeFile(config, JSON.stringify({ provider: { uri, allowUriPrograms: true } }));
    const allowed = await runCliProcess(['images'], evil.dir, env);
    expect(allowed.code).toBe(5);
    expect(evil.ran()).toBe(true);
    await evil.reset();
    await rm(config);
  });
});
