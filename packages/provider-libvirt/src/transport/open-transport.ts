import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connectionError } from '../errors/libvirt-error.js';
import type { LibvirtTarget } from './libvirt-uri.js';
import { buildSshCommand } from './ssh-command.js';

/** Options for {@link openTransport}. */
export interface TransportOptions {
  /** Give up connecting after this long (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** The ssh binary (default `ssh`, or the URI's `?command=`). */
  readonly sshBinary?: string;
}

/** Opens the byte stream to libvirtd: a unix socket, a TCP socket, or an ssh child process. */
export async function openTransport(target: LibvirtTarget, options: TransportOptions = {}): Promise<Duplex> {
  const timeout = options.connectTimeoutMs ?? 10_000;
  if (target.transport === 'ssh') return openSsh(target, options.sshBinary);
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

function openSsh(target: LibvirtTarget, sshBinary: string | undefined): Duplex {
  const { command, args } = buildSshCommand(target, sshBinary);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin });
  child.once('error', (error) => {
    duplex.destroy(connectionError(`cannot run ${command} for ${target.uri}: ${error.message}`, error));
  });
  child.once('exit', (code, signal) => {
    if (!duplex.destroyed) {
      const why = stderr.trim() || (signal ? `killed by ${signal}` : `exit code ${code}`);
      duplex.destroy(connectionError(`ssh tunnel to ${target.uri} closed: ${why}`));
    }
  });
  duplex.once('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  return duplex;
}
