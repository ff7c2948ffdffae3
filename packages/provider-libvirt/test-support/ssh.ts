import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A throw-away ed25519 key pair for a test, and a directory for known_hosts files. */
export interface SshKeys {
  readonly dir: string;
  readonly privateKey: string;
  readonly publicKey: string;
  /** Removes the keys and every known_hosts file. */
  dispose(): Promise<void>;
}

/** Makes a key pair with the system `ssh-keygen`. */
export async function makeSshKeys(): Promise<SshKeys> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-ssh-'));
  const privateKey = join(dir, 'id_ed25519');
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'vmkit-test', '-f', privateKey]);
  const publicKey = (await readFile(`${privateKey}.pub`, 'utf8')).trim();
  return { dir, privateKey, publicKey, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** What one `ssh` run printed, and the host key it was shown (from its own known_hosts file). */
export interface SshResult {
  readonly stdout: string;
  /** `ssh-ed25519 AAAA...` as the server presented it. */
  readonly hostKey: string;
}

/**
 * Runs `command` on `user@127.0.0.1:port` with the system `ssh` client: the test's key only,
 * no agent, host key checking off with a known_hosts file of its own (so the host key the server
 * presented can be read back), ed25519 host keys only.
 */
export async function sshRun(keys: SshKeys, port: number, user: string, command: string): Promise<SshResult> {
  const knownHosts = join(keys.dir, `known_hosts-${port}`);
  await rm(knownHosts, { force: true });
  const { stdout } = await exec(
    'ssh',
    [
      '-F',
      'none',
      '-i',
      keys.privateKey,
      '-p',
      String(port),
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'IdentityAgent=none',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'HostKeyAlgorithms=ssh-ed25519',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'LogLevel=ERROR',
      `${user}@127.0.0.1`,
      command,
    ],
    { timeout: 30_000 },
  );
  const line = (await readFile(knownHosts, 'utf8')).trim().split('\n')[0] ?? '';
  return { stdout, hostKey: line.split(/\s+/).slice(1, 3).join(' ') };
}

/** Retries {@link sshRun} until it succeeds (the guest booting), up to `timeoutMs`, `pauseMs` apart. */
export async function waitForSsh(
  keys: SshKeys,
  port: number,
  user: string,
  command: string,
  timeoutMs: number,
  pauseMs = 2000,
): Promise<SshResult & { ms: number }> {
  const start = performance.now();
  let last: unknown;
  while (performance.now() - start < timeoutMs) {
    try {
      return { ...(await sshRun(keys, port, user, command)), ms: performance.now() - start };
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
  throw new Error(`no SSH to ${user}@127.0.0.1:${port} within ${timeoutMs} ms: ${String(last)}`);
}

/**
 * One TCP connection to `127.0.0.1:port`: the first line the server sends (an SSH server's
 * identification, `SSH-2.0-…`), or `''` when the connection is refused, reset or closed first,
 * or nothing came within `timeoutMs`. Not retried: it tells whether the server answers now.
 */
export function sshBannerOnce(port: number, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let seen = '';
    const finish = (line: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(line);
    };
    const timer = setTimeout(() => finish(''), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      const end = seen.indexOf('\n');
      if (end >= 0) finish(seen.slice(0, end).trimEnd());
    });
    socket.once('error', () => finish(''));
    socket.once('close', () => finish(''));
  });
}

/** A program a URI's `?command=` could name: it leaves a marker file and fails, as a broken tunnel. */
export interface MarkerProgram {
  /** A private temporary folder holding the program and, once it ran, the marker. */
  readonly dir: string;
  /** The program's path. */
  readonly program: string;
  /** Whether the program ran (since the last {@link MarkerProgram.reset}). */
  ran(): boolean;
  /** Removes the marker. */
  reset(): Promise<void>;
  /** Removes the folder. */
  dispose(): Promise<void>;
}

/** Writes a {@link MarkerProgram} into a new temporary folder. */
export async function makeMarkerProgram(): Promise<MarkerProgram> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-uri-program-'));
  const marker = join(dir, 'program.ran');
  const program = join(dir, 'evil-ssh');
  await writeFile(program, `#!/bin/sh\necho ran > ${marker}\nexit 1\n`, { mode: 0o755 });
  return {
    dir,
    program,
    ran: () => existsSync(marker),
    reset: () => rm(marker, { force: true }),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The first two fields of an OpenSSH public key line (`type base64`), as a host key is compared. */
export const keyOf = (line: string | undefined): string =>
  (line ?? '').trim().split(/\s+/).slice(0, 2).join(' ');
