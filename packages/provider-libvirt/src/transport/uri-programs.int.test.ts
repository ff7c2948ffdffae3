import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtClient, libvirtProvider } from '../index.js';

let dir: string;
let marker: string;
let program: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-libvirt-uri-programs-'));
  marker = join(dir, 'program.ran');
  program = join(dir, 'evil-ssh');
  await writeFile(program, `#!/bin/sh\necho ran > ${marker}\nexit 1\n`, { mode: 0o755 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('URI parameters that choose a program (library callers)', () => {
  it('refuses ?command= and ?netcat= in the provider and the client unless allowUriPrograms', async () => {
    const uri = `qemu+ssh://localhost/system?command=${program}`;
    expect(() => libvirtProvider({ uri })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: `uri: the parameter ?command= names the program run on this host as ssh (${program}); refused unless allowed with allowUriPrograms: true`,
      }),
    );
    expect(() => libvirtProvider({ uri: 'qemu+ssh://h/system?netcat=/tmp/nc' })).toThrow(
      /^uri: the parameter \?netcat= names the program run on the remote host as netcat/,
    );
    expect(() => libvirtProvider({ uri: 'qemu:///system', allowUriPrograms: 'yes' as never })).toThrow(
      /^allowUriPrograms: must be true or false/,
    );
    await expect(LibvirtClient.connect({ uri, connectTimeoutMs: 5000 })).rejects.toThrow(
      /^uri: the parameter \?command=/,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('runs the program the URI names when the caller allows it', async () => {
    await expect(
      LibvirtClient.connect({
        uri: `qemu+ssh://localhost/system?command=${program}`,
        allowUriPrograms: true,
        connectTimeoutMs: 5000,
      }),
    ).rejects.toMatchObject({ code: 'PROVIDER' });
    expect(existsSync(marker)).toBe(true);
    const provider = libvirtProvider({
      uri: `qemu+ssh://h/system?command=${program}`,
      allowUriPrograms: true,
    });
    expect(provider).toBeDefined();
  });
});
