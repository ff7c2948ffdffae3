import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The host's own OpenSSH server on a loopback port, with a config and host key of its own. */
export interface LoopbackSshd {
  readonly port: number;
  readonly dir: string;
  /** The host key it shows now (`type base64`). */
  hostKey(): Promise<string>;
  /** Replaces the authorised keys (one OpenSSH line each). */
  authorize(...publicKeys: string[]): Promise<void>;
  /**
   * What it has written to stderr so far; with `debug`, each connection's key exchange (sshd then
   * also sends debug lines to clients' stderr, so only for tests that read no stderr).
   */
  log(): string;
  /** Ends every open connection (its per-connection processes killed), as a rebooting guest would; it still listens. */
  dropConnections(): Promise<void>;
  /** How many TCP connections to it are established now (read with `ss`). */
  connections(): Promise<number>;
  /** Stops it and starts it again with a new host key (what a remade guest would show). */
  newHostKey(): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts `/usr/sbin/sshd -D` on 127.0.0.1 (root login by key only) and waits until it listens;
 * `debug` logs at `DEBUG1`.
 */
export async function startLoopbackSshd(options: { readonly debug?: boolean } = {}): Promise<LoopbackSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-sshd-'));
  const port = await freePort();
  // sshd reads the authorised keys as the user logging in: public keys, readable by all.
  const keysDir = await mkdtemp(join(tmpdir(), 'vmkit-sshd-keys-'));
  await chmod(keysDir, 0o755);
  const authorized = join(keysDir, 'authorized_keys');
  const hostKeyFile = join(dir, 'ssh_host_ed25519_key');
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  await writeFile(authorized, '', { mode: 0o644 });
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKeyFile}`,
      `AuthorizedKeysFile ${authorized}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      // With PAM, sshd lets a key log in to an account without a password ('!' in /etc/shadow).
      'UsePAM yes',
      'MaxSessions 50',
      'MaxStartups 50',
      `LogLevel ${options.debug ? 'DEBUG1' : 'INFO'}`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let logged = '';
  const makeKey = async () => {
    await rm(hostKeyFile, { force: true });
    await rm(`${hostKeyFile}.pub`, { force: true });
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKeyFile]);
  };
  const start = async () => {
    const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = sshd;
    // Listening is observed: sshd says so on stderr once its socket is bound.
    await new Promise<void>((resolve, reject) => {
      let said = '';
      sshd.once('exit', (code) => reject(new Error(`sshd exited (${code}): ${said}`)));
      sshd.stderr?.on('data', (d: Buffer) => {
        logged += d.toString();
        said += d.toString();
        if (said.includes('Server listening on')) resolve();
      });
    });
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  await makeKey();
  await start();
  return {
    port,
    dir,
    hostKey: async () =>
      (await readFile(`${hostKeyFile}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' '),
    log: () => logged,
    dropConnections: async () => {
      if (child?.pid === undefined) return;
      await exec('pkill', ['-KILL', '-P', String(child.pid)]).catch(() => undefined); // exit 1: none
    },
    connections: async () => {
      const { stdout } = await exec('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`]);
      return stdout.split('\n').filter((l) => l.trim() !== '').length;
    },
    authorize: (...keys) => writeFile(authorized, `${keys.join('\n')}\n`, { mode: 0o644 }),
    newHostKey: async () => {
      await stop();
      await makeKey();
      await start();
    },
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
      await rm(keysDir, { recursive: true, force: true });
    },
  };
}
