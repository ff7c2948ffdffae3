import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLibvirtUri } from './libvirt-uri.js';
import { locateTlsCredentials, readTlsCredentials, SYSTEM_TLS_FILES } from './tls-credentials.js';

const target = parseLibvirtUri('qemu+tls://host/system');
const home = '/home/ann';
const user = (files: string[]) => ({ uid: 1000, home, exists: (p: string) => files.includes(p) });
const dir = mkdtempSync(join(tmpdir(), 'vmkit-tls-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('locateTlsCredentials (libvirt’s search order)', () => {
  it('root uses the system files, even when it has files of its own', () => {
    const mine = ['/root/.pki/libvirt/cacert.pem', '/root/.pki/libvirt/clientcert.pem'];
    expect(
      locateTlsCredentials(target, {}, { uid: 0, home: '/root', exists: (p) => mine.includes(p) }),
    ).toEqual({
      caFile: SYSTEM_TLS_FILES.caFile,
      certFile: '/etc/pki/libvirt/clientcert.pem',
      keyFile: '/etc/pki/libvirt/private/clientkey.pem',
    });
  });

  it('another user uses ~/.pki/libvirt/, each file missing there taken from the system paths', () => {
    const found = locateTlsCredentials(
      target,
      {},
      user([`${home}/.pki/libvirt/clientcert.pem`, `${home}/.pki/libvirt/clientkey.pem`]),
    );
    expect(found).toEqual({
      caFile: '/etc/pki/CA/cacert.pem',
      certFile: `${home}/.pki/libvirt/clientcert.pem`,
      keyFile: `${home}/.pki/libvirt/clientkey.pem`,
    });
  });

  it('a pkipath (option, else the URI’s) holds all three, whatever exists; a file option wins over both', () => {
    const withUri = parseLibvirtUri('qemu+tls://host/system?pkipath=/uri-pki');
    expect(locateTlsCredentials(withUri, {}, user([`${home}/.pki/libvirt/cacert.pem`]))).toEqual({
      caFile: '/uri-pki/cacert.pem',
      certFile: '/uri-pki/clientcert.pem',
      keyFile: '/uri-pki/clientkey.pem',
    });
    expect(
      locateTlsCredentials(withUri, { pkiPath: '/opt-pki', keyFile: '/k.pem' }, user(['/opt-pki/cacrl.pem'])),
    ).toEqual({
      caFile: '/opt-pki/cacert.pem',
      certFile: '/opt-pki/clientcert.pem',
      keyFile: '/k.pem',
      crlFile: '/opt-pki/cacrl.pem',
    });
  });
});

describe('readTlsCredentials', () => {
  it('names the option, the role and the path of a file it cannot read', () => {
    const ca = join(dir, 'cacert.pem');
    const cert = join(dir, 'clientcert.pem');
    writeFileSync(ca, 'ca');
    writeFileSync(cert, 'cert');
    const key = join(dir, 'clientkey.pem');
    expect(() => readTlsCredentials({ caFile: ca, certFile: cert, keyFile: key })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(`tls.keyFile: the client key ${key} cannot be read (ENOENT)`),
        details: expect.objectContaining({ field: 'tls.keyFile', file: key }),
      }),
    );
    writeFileSync(key, 'key');
    expect(readTlsCredentials({ caFile: ca, certFile: cert, keyFile: key }).key.toString()).toBe('key');
  });
});
