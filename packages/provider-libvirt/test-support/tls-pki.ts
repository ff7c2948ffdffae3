import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate and its key, as PEM files. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/** Test certificates made with `openssl`: two CAs and the certificates they signed. */
export interface TestPki {
  /** The folder holding everything. */
  readonly dir: string;
  /** The CA that signed the server's and the good client's certificates. */
  readonly ca: PemPair;
  /** Another CA, trusted by nobody here. */
  readonly otherCa: PemPair;
  /** libvirtd's certificate (signed by {@link TestPki.ca}) for `serverNames`. */
  readonly server: PemPair;
  /** A client certificate signed by {@link TestPki.ca}. */
  readonly client: PemPair;
  /** A client certificate signed by {@link TestPki.otherCa}. */
  readonly strangerClient: PemPair;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): PemPair {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  openssl(['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', key]);
  openssl([
    ...['req', '-x509', '-new', '-key', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  ]);
  return { cert, key };
}

function makeLeaf(
  dir: string,
  name: string,
  ca: PemPair,
  purpose: 'serverAuth' | 'clientAuth',
  altNames: readonly string[],
): PemPair {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  openssl(['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', key]);
  openssl(['req', '-new', '-key', key, '-out', csr, '-subj', `/O=vmkit test/CN=${name}`]);
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      `extendedKeyUsage=${purpose}`,
      ...(altNames.length > 0 ? [`subjectAltName=${altNames.join(',')}`] : []),
      '',
    ].join('\n'),
  );
  openssl([
    ...['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial'],
    ...['-out', cert, '-days', '2', '-extfile', ext],
  ]);
  return { cert, key };
}

/**
 * Makes a CA, a server certificate for `serverNames` (`DNS:name` or `IP:address` entries), a
 * client certificate, and a second CA with a client certificate of its own, under `dir`.
 */
export function makeTestPki(dir: string, serverNames: readonly string[]): TestPki {
  mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, 'vmkit-test-ca');
  const otherCa = makeCa(dir, 'vmkit-other-ca');
  return {
    dir,
    ca,
    otherCa,
    server: makeLeaf(dir, 'server', ca, 'serverAuth', serverNames),
    client: makeLeaf(dir, 'client', ca, 'clientAuth', []),
    strangerClient: makeLeaf(dir, 'stranger', otherCa, 'clientAuth', []),
  };
}
