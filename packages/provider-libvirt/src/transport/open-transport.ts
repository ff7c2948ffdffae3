import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connectionError } from '../errors/libvirt-error.js';
import type { LibvirtTarget } from './libvirt-uri.js';
import { buildSshCommand } from './ssh-command.js';
import { type LibvirtTlsOptions, locateTlsCredentials, readTlsCredentials } from './tls-credentials.js';
import { openTls } from './tls-transport.js';

/** Options for {@link openTransport}. */
export interface TransportOptions {
  /** Give up connecting after this long (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** The ssh binary (default `ssh`, or the URI's `?command=`). */
  readonly sshBinary?: string;
  /** The x509 files of a `+tls` URI (default: searched for as libvirt does). */
  readonly tls?: LibvirtTlsOptions;
}

/**
 * Opens the byte stream to libvirtd: a unix socket, a TCP socket, a TLS connection (its files
 * read at each opening, so renewed certificates are used by the next reconnect), or an ssh
 * child process.
 */
export async function openTransport(target: LibvirtTarget, options: TransportOptions = {}): Promise<Duplex> {
  const timeout = options.connectTimeoutMs ?? 10_000;
  if (target.transport === 'ssh') return openSsh(target, options.sshBinary);
  if (target.transport === 'tls')
    return openTls(target, readTlsCredentials(locateTlsCredentials(target, options.tls)), timeout);
  const where = target.transport === 'unix' ? target.socketPath : `${target.host}:${target.port}`;
  return new Promise<Duplex>((resolve, reject) => {
    const socket: Socket =
      target.transport === 'unix'
        ? connect({ path: target.socketPath })
        : connect({ host: target.host as string, port: target.port as number });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        connectionError(
          `cannot connect to libvirt at ${where} (${target.uri}): timed out after ${timeout} ms`,
        ),
      );
    }, timeout);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const hint = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? ' (is libvirtd running?)' : '';
      reject(
        connectionError(
          `cannot connect to libvirt at ${where} (${target.uri}): ${error.code ?? error.message}${hint}`,
          error,
        ),
      );
    });
  });
}

/**
 * The ssh child as a byte stream. Its stdout ending is not the end of the connection until ssh
 * has exited: when ssh fails (host unreachable, key refused, no libvirtd there), the stream fails
 * with ssh's own message (its stderr), not with a bare "closed"; writes to a dead ssh are dropped
 * for the same reason, so the exit is what reports why.
 */
function openSsh(target: LibvirtTarget, sshBinary: string | undefined): Duplex {
  const { command, args } = buildSshCommand(target, sshBinary);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const stdout = child.stdout;
  const duplex = new Duplex({
    read() {
      stdout.resume();
    },
    write(chunk: Buffer, _encoding, done) {
      if (child.stdin.destroyed || child.stdin.write(chunk)) done();
      else child.stdin.once('drain', () => done());
    },
    final(done) {
      child.stdin.end();
      done();
    },
    destroy(error, done) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      done(error);
    },
  });
  stdout.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) stdout.pause();
  });
  child.stdin.on('error', () => {
    // ssh died: its exit (below) says why.
  });
  child.once('error', (error) => {
    duplex.destroy(connectionError(`cannot run ${command} for ${target.uri}: ${error.message}`, error));
  });
  child.once('close', (code, signal) => {
    if (duplex.destroyed) return;
    const why = stderr.trim();
    if (code === 0) duplex.push(null);
    else
      duplex.destroy(
        connectionError(
          `ssh to ${target.host} for ${target.uri} failed: ${why || (signal ? `killed by ${signal}` : `exit code ${code}`)}`,
        ),
      );
  });
  return duplex;
}
