import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshEndpoint } from '@vmkit/core/spi';
import { VmkitError } from '@vmkit/core/spi';
import type { CliIo } from './cli-io.js';

/** An SSH session `vmkit ssh` opens with the system's `ssh` client. */
export interface SshSession {
  /** The node's id: the name its host key is kept under (`HostKeyAlias vmkit-ID`). */
  readonly nodeId: string;
  readonly endpoint: SshEndpoint;
  /** The guest user, when known (else ssh's default). */
  readonly user?: string;
  /** The PEM private key vmkit stored for the node, when it did. Never printed. */
  readonly privateKey?: string;
  /** vmkit's own known_hosts file: host keys accepted on first contact, checked after. */
  readonly knownHosts: string;
  /** A command for the guest's shell; none: an interactive login. */
  readonly command: readonly string[];
}

/**
 * Runs `ssh` (from `PATH`) into a node and returns its exit code (128 + n when signal n ended
 * it). The private key goes to a 0600 file in a new 0700 directory, removed when ssh ends,
 * whatever happens; the host key is accepted on first contact into `knownHosts` under the
 * node's id (a port forward reused by another node cannot pass for it) and checked after.
 * SIGINT, SIGTERM and SIGHUP go to ssh, not to vmkit, so the key file is always removed. The
 * process's own streams are handed to ssh (a terminal stays a terminal); other streams are piped.
 */
export async function runSsh(session: SshSession, io: CliIo): Promise<number> {
  await mkdir(join(session.knownHosts, '..'), { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-ssh-'));
  try {
    const args = [
      '-o',
      `HostKeyAlias=vmkit-${session.nodeId}`,
      '-o',
      `UserKnownHostsFile=${session.knownHosts}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=accept-new',
      '-o',
      'LogLevel=ERROR',
      '-p',
      String(session.endpoint.port),
    ];
    if (session.privateKey !== undefined) {
      const key = join(dir, 'id');
      const pem = session.privateKey.endsWith('\n') ? session.privateKey : `${session.privateKey}\n`;
      await writeFile(key, pem, { mode: 0o600, flag: 'wx' });
      args.push('-i', key, '-o', 'IdentitiesOnly=yes');
    }
    if (session.user !== undefined) args.push('-l', session.user);
    args.push('--', session.endpoint.host, ...session.command);
    return await spawnSsh(args, io);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function spawnSsh(args: string[], io: CliIo): Promise<number> {
  const own = io.stdin === process.stdin && io.stdout === process.stdout && io.stderr === process.stderr;
  const stdio: StdioOptions = own ? 'inherit' : [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'];
  const child = spawn('ssh', args, { env: io.env, cwd: io.cwd, stdio });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, forward);
  try {
    if (!own) pipeStreams(child, io);
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? new VmkitError(
                'UNSUPPORTED',
                'vmkit ssh runs the ssh client, and there is no ssh on PATH: install openssh-client',
                {
                  cause: error,
                },
              )
            : error,
        ),
      );
      child.once('close', (code, signal) =>
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)),
      );
    });
  } finally {
    for (const s of signals) process.off(s, forward);
  }
}

function pipeStreams(child: ChildProcess, io: CliIo): void {
  child.stdout?.on('data', (d: Buffer) => io.stdout.write(d));
  child.stderr?.on('data', (d: Buffer) => io.stderr.write(d));
  if (io.stdin && child.stdin) {
    child.stdin.on('error', () => {}); // ssh ended before reading all of it
    io.stdin.pipe(child.stdin);
  }
}
