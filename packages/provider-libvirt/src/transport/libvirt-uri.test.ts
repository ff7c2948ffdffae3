import { describe, expect, it } from 'vitest';
import { parseLibvirtUri, SYSTEM_SOCKET } from './libvirt-uri.js';
import { buildSshCommand, shellQuote } from './ssh-command.js';

describe('parseLibvirtUri', () => {
  it('maps local URIs to the unix socket and strips the transport from the remote name', () => {
    expect(parseLibvirtUri('qemu:///system')).toMatchObject({
      driver: 'qemu',
      transport: 'unix',
      socketPath: SYSTEM_SOCKET,
      remoteName: 'qemu:///system',
    });
    expect(parseLibvirtUri('test+unix:///default')).toMatchObject({
      transport: 'unix',
      remoteName: 'test:///default',
    });
    expect(parseLibvirtUri('qemu:///session').socketPath).toMatch(/libvirt\/libvirt-sock$/);
    expect(parseLibvirtUri('qemu:///system?socket=/tmp/s').socketPath).toBe('/tmp/s');
  });

  it('parses TCP and SSH targets with user, host and port', () => {
    expect(parseLibvirtUri('qemu+tcp://h.example:1234/system')).toMatchObject({
      transport: 'tcp',
      host: 'h.example',
      port: 1234,
      remoteName: 'qemu:///system',
    });
    expect(parseLibvirtUri('qemu+tcp://10.0.0.1/system').port).toBe(16509);
    expect(parseLibvirtUri('qemu+ssh://ann@host/system?keyfile=/k&mode=legacy')).toMatchObject({
      transport: 'ssh',
      user: 'ann',
      host: 'host',
      socketPath: '/var/run/libvirt/libvirt-sock',
      remoteName: 'qemu:///system',
    });
    expect(parseLibvirtUri('qemu+ssh://[::1]:2222/system')).toMatchObject({ host: '::1', port: 2222 });
  });

  it('takes TLS as the transport of a URI with a host and no transport (port 16514), as libvirt does', () => {
    for (const uri of ['qemu://h.example/system', 'qemu+tls://h.example/system']) {
      expect(parseLibvirtUri(uri)).toMatchObject({
        transport: 'tls',
        host: 'h.example',
        port: 16514,
        remoteName: 'qemu:///system',
      });
    }
    expect(parseLibvirtUri('qemu+tls://[::1]:26514/system')).toMatchObject({ host: '::1', port: 26514 });
    // ?pkipath= is the client's: read here, not sent to the daemon.
    const withPki = parseLibvirtUri('qemu+tls://h/system?pkipath=/pki&foo=1');
    expect(withPki.params.pkipath).toBe('/pki');
    expect(withPki.remoteName).toBe('qemu:///system?foo=1');
  });

  it('refuses ?no_verify over TLS: the server certificate is always checked', () => {
    expect(() => parseLibvirtUri('qemu+tls://h/system?no_verify=1')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/no_verify/) }),
    );
    expect(parseLibvirtUri('qemu+tls://h/system?no_verify=0').transport).toBe('tls');
  });

  it('passes unknown parameters on to the daemon and honours ?name=', () => {
    expect(parseLibvirtUri('test+unix:///default?foo=bar').remoteName).toBe('test:///default?foo=bar');
    expect(parseLibvirtUri('qemu+ssh://h/system?name=qemu:///session').remoteName).toBe('qemu:///session');
  });

  it('rejects malformed URIs and unsupported transports with clear errors', () => {
    expect(() => parseLibvirtUri('not a uri')).toThrow(/uri: not a libvirt URI/);
    expect(() => parseLibvirtUri('qemu+libssh2://remote/system')).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED' }),
    );
    expect(() => parseLibvirtUri('qemu+tls:///system')).toThrow(/needs a host/);
    expect(() => parseLibvirtUri('qemu+ssh:///system')).toThrow(/needs a host/);
    expect(() => parseLibvirtUri('qemu+unix://h/system')).toThrow(/takes no host/);
    expect(() => parseLibvirtUri('qemu+tcp://h:70000/system')).toThrow(/port out of range/);
  });
});

describe('buildSshCommand', () => {
  it('runs a non-interactive ssh whose remote command proxies to virt-ssh-helper or nc', () => {
    const cmd = buildSshCommand(parseLibvirtUri('qemu+ssh://ann@host:2222/system?keyfile=/id&no_verify=1'));
    expect(cmd.command).toBe('ssh');
    expect(cmd.args.slice(0, -1)).toEqual([
      '-p',
      '2222',
      '-l',
      'ann',
      '-i',
      '/id',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-T',
      '-e',
      'none',
      '-o',
      'BatchMode=yes',
      '--',
      'host',
    ]);
    const remote = cmd.args.at(-1) as string;
    expect(remote).toMatch(/^sh -c '/);
    expect(remote).toContain('virt-ssh-helper qemu:///system');
    expect(remote).toContain('nc -U /var/run/libvirt/libvirt-sock');
  });

  it('honours proxy=native, proxy=netcat, netcat=, command= and the sshBinary option', () => {
    expect(buildSshCommand(parseLibvirtUri('qemu+ssh://h/system?proxy=native')).args.at(-1)).toBe(
      'virt-ssh-helper qemu:///system',
    );
    expect(
      buildSshCommand(parseLibvirtUri('qemu+ssh://h/system?proxy=netcat&netcat=ncat&socket=/s')).args.at(-1),
    ).toBe('ncat -U /s');
    expect(buildSshCommand(parseLibvirtUri('qemu+ssh://h/system?command=/opt/ssh')).command).toBe('/opt/ssh');
    expect(buildSshCommand(parseLibvirtUri('qemu+ssh://h/system'), '/bin/myssh').command).toBe('/bin/myssh');
  });

  it('quotes words for the remote shell', () => {
    expect(shellQuote('qemu:///system')).toBe('qemu:///system');
    expect(shellQuote("a b'c")).toBe(`'a b'\\''c'`);
    expect(shellQuote('$(rm -rf /)')).toBe(`'$(rm -rf /)'`);
  });
});
