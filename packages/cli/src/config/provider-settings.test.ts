import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from './settings.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-provider-settings-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A project folder whose vmkit.config.json holds `provider`. */
async function project(name: string, provider: unknown): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'vmkit.config.json'), JSON.stringify({ provider }));
  return folder;
}

describe('choosing the provider: --provider, then VMKIT_PROVIDER, then provider.type, then libvirt', () => {
  it('a config without type is libvirt, as configs written before VirtualBox are', async () => {
    const folder = await project('old', { uri: 'qemu:///session', pool: 'p' });
    expect((await loadSettings({}, {}, folder)).provider).toEqual({
      type: 'libvirt',
      uri: 'qemu:///session',
      pool: 'p',
    });
  });

  it('provider.type virtualbox: its fields, the default URL, machineFolder relative to the file', async () => {
    const folder = await project('vbox', {
      type: 'virtualbox',
      username: 'u',
      password: 'file-secret',
      machineFolder: 'machines',
      stopGraceMs: 1000,
    });
    expect((await loadSettings({}, {}, join(folder))).provider).toEqual({
      type: 'virtualbox',
      url: 'http://127.0.0.1:18083/',
      username: 'u',
      password: 'file-secret',
      machineFolder: join(folder, 'machines'),
      stopGraceMs: 1000,
    });
  });

  it('VMKIT_PROVIDER overrides provider.type, and the config fields of the other provider are left out', async () => {
    const folder = await project('env', { uri: 'qemu:///session', pool: 'p', namePrefix: 'f-' });
    const env = { VMKIT_PROVIDER: 'virtualbox', VMKIT_URI: 'http://vbox.example:18083/' };
    expect((await loadSettings({}, env, folder)).provider).toEqual({
      type: 'virtualbox',
      url: 'http://vbox.example:18083/',
    });
  });

  it('--provider overrides VMKIT_PROVIDER; --uri and --prefix apply to whichever provider it is', async () => {
    const folder = await project('flag', { type: 'virtualbox', url: 'http://file:18083/', namePrefix: 'f-' });
    const env = { VMKIT_PROVIDER: 'virtualbox', VMKIT_URI: 'http://env:18083/' };
    expect((await loadSettings({ provider: 'libvirt' }, env, folder)).provider).toEqual({
      type: 'libvirt',
      uri: 'http://env:18083/',
    });
    expect(
      (await loadSettings({ provider: 'libvirt', uri: 'qemu:///system' }, env, folder)).provider,
    ).toEqual({ type: 'libvirt', uri: 'qemu:///system' });
    expect((await loadSettings({ prefix: 'g-' }, {}, folder)).provider).toEqual({
      type: 'virtualbox',
      url: 'http://file:18083/',
      namePrefix: 'g-',
    });
    expect((await loadSettings({ uri: 'http://flag:18083/' }, env, folder)).provider).toMatchObject({
      url: 'http://flag:18083/',
      namePrefix: 'f-',
    });
  });

  it('VMKIT_VBOX_USER and VMKIT_VBOX_PASSWORD override the file', async () => {
    const folder = await project('secret', { type: 'virtualbox', username: 'u', password: 'file-secret' });
    const env = { VMKIT_VBOX_USER: 'ci', VMKIT_VBOX_PASSWORD: 'env-secret' };
    expect((await loadSettings({}, env, folder)).provider).toMatchObject({
      username: 'ci',
      password: 'env-secret',
    });
  });

  it('passes libvirt options the command line does not list (TLS, timeouts) to the provider as they are', async () => {
    const tls = { caCert: '/etc/pki/CA/cacert.pem' };
    const folder = await project('pass', { type: 'libvirt', machine: 'q35', tls, installTimeoutMs: 5 });
    expect((await loadSettings({}, {}, folder)).provider).toEqual({
      type: 'libvirt',
      uri: 'qemu:///system',
      machine: 'q35',
      tls,
      installTimeoutMs: 5,
    });
  });

  it('an unknown type, from the flag or the variable, is refused naming where it came from', async () => {
    const folder = await project('bad', {});
    await expect(loadSettings({ provider: 'hyperv' }, {}, folder)).rejects.toThrow(
      '--provider: must be one of libvirt, virtualbox (got "hyperv")',
    );
    await expect(loadSettings({}, { VMKIT_PROVIDER: 'xen' }, folder)).rejects.toThrow(
      'VMKIT_PROVIDER: must be one of libvirt, virtualbox (got "xen")',
    );
    await expect(loadSettings({ provider: 'virtualbox', pool: 'p' }, {}, folder)).rejects.toThrow(
      '--pool: is a libvirt option, and the provider is virtualbox',
    );
  });
});
