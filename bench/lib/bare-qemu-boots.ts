// The floor of a cold boot on this machine: guests started by bare QEMU processes (no libvirt, no
// tool around them), each from its own overlay of one disk, timed until each takes an SSH login.
// What a tool adds on top of its guests' boot is its time less this floor.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** What {@link bareQemuBoots} boots and how it logs in. */
export interface BareBoots {
  /** The qcow2 disk every guest's overlay is made over (read only). */
  readonly disk: string;
  /** A scratch folder for the overlays, consoles and the key (the caller removes it). */
  readonly dir: string;
  /** How many guests start at once. */
  readonly count: number;
  readonly ramMiB: number;
  readonly cpus: number;
  /** The login the guests accept: a user and its private key (OpenSSH or PEM text). */
  readonly user: string;
  readonly privateKey: string;
  /** The guests' NIC's PCI slot (the image may configure its interface by that name: slot 16 is `ens16`). */
  readonly nicSlot: number;
  readonly timeoutMs: number;
}

/** A free TCP port on loopback (closed again at once; QEMU binds it next). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Whether `ssh` logs in on `port` and runs `true`. */
async function sshLogin(port: number, user: string, key: string): Promise<boolean> {
  try {
    await exec(
      'ssh',
      [
        ...['-q', '-i', key, '-p', String(port)],
        ...['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'],
        ...['-o', 'ConnectTimeout=5', `${user}@127.0.0.1`, 'true'],
      ],
      { timeout: 20_000 },
    );
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `count` bare QEMUs under TCG at once and answers, for each, the ms from the start until
 * OpenSSH's client logged in (tried every 200 ms). Every QEMU is killed before it returns.
 */
export async function bareQemuBoots(o: BareBoots): Promise<number[]> {
  const key = join(o.dir, 'login-key');
  await writeFile(key, o.privateKey.endsWith('\n') ? o.privateKey : `${o.privateKey}\n`, { mode: 0o600 });
  const procs: ChildProcess[] = [];
  /** Set when the run ends (a guest failed, or all answered): the other waits stop. */
  let stopped = false;
  const ended = (p: ChildProcess | undefined) => !p || p.exitCode !== null || p.signalCode !== null;
  try {
    const overlays: string[] = [];
    const ports: number[] = [];
    for (let i = 0; i < o.count; i++) {
      const overlay = join(o.dir, `bare-${i}.qcow2`);
      await exec('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', o.disk, overlay]);
      overlays.push(overlay);
      ports.push(await freePort());
    }
    // Timed from the first QEMU's start: the overlays are made before.
    const start = performance.now();
    for (const [i, overlay] of overlays.entries()) {
      const qemu = spawn(
        'qemu-system-x86_64',
        [
          ...['-machine', 'pc,accel=tcg', '-smp', String(o.cpus), '-m', String(o.ramMiB)],
          ...['-nodefaults', '-no-user-config', '-display', 'none'],
          ...['-serial', `file:${join(o.dir, `bare-${i}.console`)}`],
          ...['-drive', `file=${overlay},if=virtio,format=qcow2`],
          ...['-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${ports[i]}-:22`],
          ...['-device', `virtio-net-pci,netdev=n0,addr=0x${o.nicSlot.toString(16)}`],
        ],
        { stdio: 'ignore' },
      );
      // A QEMU that cannot start (not installed) is a failed guest below, not a crash of the bench.
      qemu.on('error', () => {});
      procs.push(qemu);
    }
    const deadline = start + o.timeoutMs;
    return await Promise.all(
      ports.map(async (port, i) => {
        for (;;) {
          if (stopped) throw new Error(`bare QEMU ${i}: stopped`);
          if (ended(procs[i]) || procs[i]?.pid === undefined)
            throw new Error(`bare QEMU ${i} is not running`);
          if (await sshLogin(port, o.user, key)) return performance.now() - start;
          if (performance.now() > deadline) throw new Error(`bare QEMU ${i}: no SSH login in time`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }),
    );
  } finally {
    stopped = true;
    await Promise.all(
      procs.map(
        (p) =>
          new Promise((resolve) => {
            if (ended(p) || p.pid === undefined) return resolve(undefined);
            p.once('exit', resolve);
            p.kill('SIGKILL');
          }),
      ),
    );
  }
}
