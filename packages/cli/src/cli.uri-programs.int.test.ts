import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../test-support/spawn-cli.js';

let dir: string;
let marker: string;
let program: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-uri-programs-'));
  marker = join(dir, 'program.ran');
  program = join(dir, 'evil-ssh');
  // What a URI's ?command= would run as ssh: it leaves a marker and fails, like a broken tunnel.
  await writeFile(program, `#!/bin/sh\necho ran > ${marker}\nexit 1\n`, { mode: 0o755 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = { HOME: '/root' };

describe('a libvirt URI that chooses a program to run', () => {
  it('is refused on the command line, naming the parameter and the flag that allows it', async () => {
    const uri = `qemu+ssh://localhost/system?command=${program}`;
    const run = await runCliProcess(['images', '--uri', uri], dir, env);
    expect(existsSync(marker)).toBe(false);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `vmkit: uri: the parameter ?command= names the program run on this host as ssh (${program}); refused unless allowed with --allow-uri-programs (or provider.allowUriPrograms: true in the config)\n`,
    );
    const netcat = await runCliProcess(
      ['images', '--uri', 'qemu+ssh://localhost/system?netcat=/x'],
      dir,
      env,
    );
    expect(netcat.stderr).toMatch(/\?netcat= names the program run on the remote host/);

    const allowed = await runCliProcess(['--allow-uri-programs', 'images', '--uri', uri], dir, env);
    expect(allowed.code).toBe(5);
    expect(existsSync(marker)).toBe(true);
    await rm(marker);
  });

  it('is refused from a config file unless the config allows it', async () => {
    const uri = `qemu+ssh://localhost/system?command=${program}`;
    const config = join(dir, 'vmkit.config.json');
    await writeFile(config, JSON.stringify({ provider: { uri } }));
    const run = await runCliProcess(['images'], dir, env);
    expect(existsSync(marker)).toBe(false);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/uri: the parameter \?command= .*--allow-uri-programs/);

    await writeFile(config, JSON.stringify({ provider: { uri, allowUriPrograms: true } }));
    const allowed = await runCliProcess(['images'], dir, env);
    expect(allowed.code).toBe(5);
    expect(existsSync(marker)).toBe(true);
    await rm(marker);
    await rm(config);
  });
});
