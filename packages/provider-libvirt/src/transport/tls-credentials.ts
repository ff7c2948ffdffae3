import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { invalidArgument } from '@vmkit/core/spi';
import type { LibvirtTarget } from './libvirt-uri.js';

/**
 * Where the x509 files of a `qemu+tls://` connection are. Each file not given is searched for as
 * libvirt's own client does: in `pkiPath` (or the URI's `?pkipath=`) when one is given, where all
 * three must be; otherwise, for a user other than root, in `~/.pki/libvirt/` (`cacert.pem`,
 * `clientcert.pem`, `clientkey.pem`), each file missing there taken from the system paths
 * (`/etc/pki/CA/cacert.pem`, `/etc/pki/libvirt/clientcert.pem`,
 * `/etc/pki/libvirt/private/clientkey.pem`), which root always uses.
 */
export interface LibvirtTlsOptions {
  /** A folder holding `cacert.pem`, `clientcert.pem` and `clientkey.pem` (and optionally `cacrl.pem`); wins over the URI's `?pkipath=`. */
  readonly pkiPath?: string;
  /** The CA certificate(s) the server's certificate must be signed by (PEM). */
  readonly caFile?: string;
  /** The client certificate shown to the server (PEM). */
  readonly certFile?: string;
  /** The client certificate's private key (PEM, unencrypted). */
  readonly keyFile?: string;
}

/** The files a TLS connection uses, with where each came from. */
export interface TlsCredentialPaths {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** A certificate revocation list beside the CA certificate (`cacrl.pem`), used when present. */
  readonly crlFile?: string;
}

/** The files' contents, ready for `node:tls`. */
export interface TlsCredentials extends TlsCredentialPaths {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly crl?: Buffer;
}

/** libvirt's system-wide client files. */
export const SYSTEM_TLS_FILES = Object.freeze({
  caFile: '/etc/pki/CA/cacert.pem',
  certFile: '/etc/pki/libvirt/clientcert.pem',
  keyFile: '/etc/pki/libvirt/private/clientkey.pem',
  crlFile: '/etc/pki/CA/cacrl.pem',
});

const NAMES = Object.freeze({
  caFile: 'cacert.pem',
  certFile: 'clientcert.pem',
  keyFile: 'clientkey.pem',
  crlFile: 'cacrl.pem',
});

const ROLES = Object.freeze({
  caFile: 'the CA certificate',
  certFile: 'the client certificate',
  keyFile: 'the client key',
});

type Role = keyof typeof ROLES;

/** How the search runs: who the caller is and where its home is (the process's by default). */
export interface TlsSearchContext {
  readonly uid?: number;
  readonly home?: string;
  /** Whether a file exists (default `existsSync`). */
  readonly exists?: (path: string) => boolean;
}

/** Checks the `tls` option's shape, naming the bad field. */
export function checkTlsOptions(tls: LibvirtTlsOptions | undefined, field = 'tls'): void {
  if (tls === undefined) return;
  if (typeof tls !== 'object' || tls === null) throw invalidArgument(field, 'must be an object');
  for (const key of ['pkiPath', 'caFile', 'certFile', 'keyFile'] as const) {
    const v = tls[key];
    if (v !== undefined && (typeof v !== 'string' || !v.startsWith('/')))
      throw invalidArgument(`${field}.${key}`, 'must be an absolute path');
  }
}

/** Chooses the files of a TLS connection (see {@link LibvirtTlsOptions} for the order). */
export function locateTlsCredentials(
  target: LibvirtTarget,
  tls: LibvirtTlsOptions = {},
  context: TlsSearchContext = {},
): TlsCredentialPaths {
  const exists = context.exists ?? existsSync;
  const pkiPath = tls.pkiPath ?? target.params.pkipath;
  const uid = context.uid ?? process.getuid?.() ?? 0;
  const userDir = uid === 0 ? undefined : join(context.home ?? homedir(), '.pki', 'libvirt');
  const pick = (role: Role | 'crlFile'): string => {
    if (pkiPath !== undefined) return join(pkiPath, NAMES[role]);
    const mine = userDir === undefined ? undefined : join(userDir, NAMES[role]);
    return mine !== undefined && exists(mine) ? mine : SYSTEM_TLS_FILES[role];
  };
  const crlFile = pick('crlFile');
  return Object.freeze({
    caFile: tls.caFile ?? pick('caFile'),
    certFile: tls.certFile ?? pick('certFile'),
    keyFile: tls.keyFile ?? pick('keyFile'),
    ...(exists(crlFile) ? { crlFile } : {}),
  });
}

/**
 * Reads the files of a TLS connection; a file that cannot be read fails with `INVALID_ARGUMENT`
 * naming its option (`tls.keyFile`), its role and its path.
 */
export function readTlsCredentials(paths: TlsCredentialPaths): TlsCredentials {
  const read = (role: Role): Buffer => {
    const path = paths[role];
    try {
      return readFileSync(path);
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? String(error);
      throw invalidArgument(
        `tls.${role}`,
        `${ROLES[role]} ${path} cannot be read (${why}); give it in the tls options or the URI's ?pkipath=, ` +
          'or install it where libvirt looks (~/.pki/libvirt/ for users other than root, then /etc/pki/)',
        { file: path },
        { cause: error },
      );
    }
  };
  const ca = read('caFile');
  const cert = read('certFile');
  const key = read('keyFile');
  let crl: Buffer | undefined;
  if (paths.crlFile !== undefined) {
    try {
      crl = readFileSync(paths.crlFile);
    } catch {
      // Optional, as for libvirt: a list that went away is no list.
    }
  }
  return Object.freeze({ ...paths, ca, cert, key, ...(crl ? { crl } : {}) });
}
