import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MarkerProgram, makeMarkerProgram } from '../../test-support/ssh.js';
import { LibvirtClient, libvirtProvider } from '../index.js';

let evil: MarkerProgram;
beforeAll(async () => {
  evil = await makeMarkerProgram();
});
afterAll(async () => evil.dispose());

describe('URI parameters that choose a program (library callers)', () => {
  it('refuses ?command= and ?netcat= in the provider and the client unless allowUriPrograms', async () => {
    const uri = `qemu+ssh://localhost/system?command=${evil.program}`;
    expect(() => libvirtProvider({ uri })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: `uri: the parameter ?command= names the program run on this host as ssh (${evil.program}); refused unless allowed with allowUriPrograms: true`,
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
    expect(evil.ran()).toBe(false);
  });

  it('runs the program the URI names when the caller allows it', async () => {
    await expect(
      LibvirtClient.connect({
        uri: `qemu+ssh://localhost/system?command=${evil.program}`,
        allowUriPrograms: true,
        connectTimeoutMs: 5000,
      }),
    ).rejects.toMatchObject({ code: 'PROVIDER' });
    expect(evil.ran()).toBe(true);
    const allowed = () =>
      libvirtProvider({ uri: `qemu+ssh://h/system?command=${evil.program}`, allowUriPrograms: true });
    expect(allowed).not.toThrow();
  });
});
