import { isIP } from 'node:net';
import {
  checkServerIdentity,
  connect,
  createSecureContext,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import { invalidArgument, VmkitError } from '@vmkit/core/spi';
import { connectionError } from '../errors/libvirt-error.js';
import type { LibvirtTarget } from './libvirt-uri.js';
import type { TlsCredentials } from './tls-credentials.js';

/** OpenSSL's names of a failed certificate check (the server's certificate was not accepted). */
const CERT_CHECK =
  /^(CERT_|UNABLE_TO_(GET_ISSUER|VERIFY|DECRYPT|DECODE)|SELF_SIGNED_|DEPTH_ZERO_|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH|KEYUSAGE|ERR_TLS_CERT_ALTNAME)/;

/**
 * Opens a TLS connection to libvirtd (`+tls`): the server's certificate must be signed by the
 * CA file's certificate and name the URI's host (`checkServerIdentity`); the client shows its
 * certificate. libvirtd then checks the client's certificate and sends one byte, 1 when it let
 * the client in; the stream is handed on after that byte, paused (its reader resumes it).
 */
export function openTls(target: LibvirtTarget, creds: TlsCredentials, timeoutMs: number): Promise<TLSSocket> {
  const host = target.host as string;
  const where = `${host}:${target.port}`;
  const context = secureContext(creds);
  return new Promise<TLSSocket>((resolve, reject) => {
    let handshakeDone = false;
    const socket = connect({
      host,
      port: target.port as number,
      secureContext: context,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      rejectUnauthorized: true,
      checkServerIdentity: (name, cert) => checkServerIdentity(name, cert),
    });
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          connectionError(
            `cannot connect to libvirt at ${where} (${target.uri}): timed out after ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    const rejectedClient = (why: string) =>
      new VmkitError(
        'PROVIDER',
        `libvirt at ${where} rejected the client certificate ${creds.certFile} (${why}): is it signed by a CA ` +
          'the daemon trusts (its ca_file), valid now, and allowed by its tls_allowed_dn_list?',
        { fault: 'environment', details: { file: creds.certFile } },
      );
    socket.once('secureConnect', () => {
      handshakeDone = true;
    });
    const onData = (chunk: Buffer) => {
      socket.removeListener('data', onData);
      socket.pause();
      if (chunk[0] !== 1) return fail(rejectedClient(`it answered ${chunk[0]} instead of 1`));
      if (chunk.length > 1) socket.unshift(chunk.subarray(1));
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      socket.setNoDelay(true);
      resolve(socket);
    };
    const onError = (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      if (!handshakeDone && CERT_CHECK.test(code)) return fail(serverRejected(error, code, where, creds));
      if (handshakeDone || /alert/i.test(error.message)) return fail(rejectedClient(error.message));
      const hint =
        code === 'ECONNREFUSED' ? ' (is libvirtd listening for TLS there: listen_tls, --listen?)' : '';
      fail(
        connectionError(
          `cannot connect to libvirt at ${where} (${target.uri}): ${code || error.message}${hint}`,
          error,
        ),
      );
    };
    const onClose = () => {
      if (handshakeDone) fail(rejectedClient('it closed the connection after the handshake'));
      else
        fail(
          connectionError(
            `cannot connect to libvirt at ${where} (${target.uri}): closed during the TLS handshake`,
          ),
        );
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/** The error of a server certificate this client does not accept: not for this host, or not signed by the CA. */
function serverRejected(error: Error, code: string, where: string, creds: TlsCredentials): VmkitError {
  const message =
    code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? `the server certificate of libvirt at ${where} is not for that host name: ${error.message}`
      : `the server certificate of libvirt at ${where} is not trusted by the CA file ${creds.caFile} (${code}: ${error.message})`;
  return new VmkitError('PROVIDER', message, {
    fault: 'environment',
    cause: error,
    details: { file: creds.caFile, reason: code },
  });
}

/** The TLS context of the credentials; a file `node:tls` cannot use is named. */
function secureContext(creds: TlsCredentials): SecureContext {
  try {
    createSecureContext({ ca: creds.ca, ...(creds.crl ? { crl: creds.crl } : {}) });
  } catch (error) {
    throw invalidArgument(
      'tls.caFile',
      `the CA certificate ${creds.caFile} is not usable: ${(error as Error).message}`,
      {
        file: creds.caFile,
      },
    );
  }
  try {
    return createSecureContext({
      ca: creds.ca,
      cert: creds.cert,
      key: creds.key,
      ...(creds.crl ? { crl: creds.crl } : {}),
    });
  } catch (error) {
    throw invalidArgument(
      'tls.keyFile',
      `the client certificate ${creds.certFile} and key ${creds.keyFile} are not a usable pair: ${(error as Error).message}`,
      { file: creds.keyFile, certFile: creds.certFile },
    );
  }
}
