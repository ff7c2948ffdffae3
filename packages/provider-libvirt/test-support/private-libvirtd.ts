import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { LibvirtClient } from '../src/client/libvirt-client.js';

/**
 * A libvirtd of a test's own, that the test may stop and start at will without disturbing the
 * machine's shared daemon (`qemu:///system`). It runs inside a private mount namespace
 * (`unshare -m --propagation private`, root only) in which libvirt's own folders (`/run/libvirt`,
 * `/var/lib/libvirt`, `/var/cache/libvirt`, `/var/log/libvirt`, `/etc/libvirt`) are bind mounts of
 * folders under one temp folder, so its domains, pools and state are its own and survive its
 * restarts (as they do for a real daemon). Its socket is in that temp folder too, reached from
 * outside the namespace with {@link PrivateLibvirtd.uri} (`qemu+unix:///system?socket=...`).
 *
 * The QEMU settings are the ones scripts/libvirt/ensure-libvirtd.sh gives the shared daemon (run
 * as root, no security driver), with no cgroup controllers (nothing shared with the other daemon's
 * machine slices) and QEMU's output written to files (`stdio_handler = "file"`), so no virtlogd is
 * needed. QEMU processes outlive a stopped daemon, and the restarted daemon takes them back.
 */
export interface PrivateLibvirtd {
  /** The URI of this daemon's QEMU driver. */
  readonly uri: string;
  /** The dir pool defined in it (folder under {@link PrivateLibvirtd.dir}). */
  readonly pool: string;
  /** The pool's folder. */
  readonly poolPath: string;
  /** The temp folder holding everything of this daemon. */
  readonly dir: string;
  /** The running daemon's pid, or `undefined` while it is stopped. */
  readonly pid: number | undefined;
  /** Stops the daemon with SIGTERM and waits until it has exited (its guests keep running). */
  stop(): Promise<void>;
  /** Starts the daemon again and waits until it answers. */
  start(): Promise<void>;
  /** {@link PrivateLibvirtd.stop} then {@link PrivateLibvirtd.start}. */
  restart(): Promise<void>;
  /**
   * The names of the domains and the pool's volumes starting with `prefix`, read from the
   * daemon (the pool refreshed first); throws when the pool does not exist.
   */
  inventory(prefix?: string): Promise<{ domains: string[]; volumes: string[] }>;
  /** Destroys its domains, stops the daemon and removes the temp folder. */
  dispose(): Promise<void>;
}

/** A TLS listener of a private libvirtd (`--listen`, `listen_tls = 1`, clients' certificates verified). */
export interface PrivateTlsListener {
  /** Port on 127.0.0.1. */
  readonly port: number;
  /** The CA certificate clients' certificates must be signed by. */
  readonly caFile: string;
  /** The daemon's certificate. */
  readonly certFile: string;
  /** The daemon's key. */
  readonly keyFile: string;
}

/** Options of {@link startPrivateLibvirtd}. */
export interface PrivateLibvirtdOptions {
  /** Also listen for TLS clients (`qemu+tls://`), with `auth_tls = "none"`. */
  readonly tls?: PrivateTlsListener;
}

const MOUNTS: ReadonlyArray<readonly [string, string]> = [
  ['/run/libvirt', 'run'],
  ['/var/lib/libvirt', 'lib'],
  ['/var/cache/libvirt', 'cache'],
  ['/var/log/libvirt', 'log'],
  ['/etc/libvirt', 'etc'],
];

/** Starts a private libvirtd (root only) with a started dir pool named `pool`. */
export async function startPrivateLibvirtd(
  pool = 'chaos',
  options: PrivateLibvirtdOptions = {},
): Promise<PrivateLibvirtd> {
  if (process.getuid?.() !== 0) throw new Error('a private libvirtd needs root (unshare -m)');
  const dir = mkdtempSync('/tmp/vmkit-plv-');
  for (const [, sub] of MOUNTS) mkdirSync(join(dir, sub), { recursive: true });
  mkdirSync(join(dir, 'sock'));
  const poolPath = join(dir, 'pool');
  mkdirSync(poolPath);
  const socket = join(dir, 'sock', 'libvirt-sock');
  writeFileSync(
    join(dir, 'etc', 'libvirtd.conf'),
    `unix_sock_dir = "${dir}/sock"\nunix_sock_rw_perms = "0700"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n${tlsConfig(options.tls)}`,
  );
  writeFileSync(
    join(dir, 'etc', 'qemu.conf'),
    'user = "root"\ngroup = "root"\nsecurity_driver = "none"\ncgroup_controllers = [ ]\nstdio_handler = "file"\n',
  );
  const binds = MOUNTS.map(([target, sub]) => `mount --bind '${join(dir, sub)}' '${target}'`).join('\n');
  writeFileSync(
    join(dir, 'start.sh'),
    `set -e\n${binds}\nexec /usr/sbin/libvirtd ${options.tls ? '--listen ' : ''}--config '${dir}/etc/libvirtd.conf' --pid-file '${dir}/libvirtd.pid'\n`,
  );
  const uri = `qemu+unix:///system?socket=${socket}`;
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child) throw new Error('the private libvirtd is already running');
    rmSync(socket, { force: true });
    const log = join(dir, 'libvirtd.log');
    const out = openSync(log, 'a');
    child = spawn('unshare', ['-m', '--propagation', 'private', 'bash', join(dir, 'start.sh')], {
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    const me = child;
    me.on('exit', () => {
      if (child === me) child = undefined;
    });
    // Waits until the daemon answers an RPC (its first start probes QEMU: several seconds).
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (!child) throw new Error(`the private libvirtd exited at start; see ${log}`);
      if (existsSync(socket)) {
        try {
          const c = await LibvirtClient.connect({ uri, reconnect: false, connectTimeoutMs: 5000 });
          await c.getType();
          await c.close();
          return;
        } catch {
          // Not ready yet.
        }
      }
      if (Date.now() > deadline)
        throw new Error(`the private libvirtd did not answer within 60 s; see ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function stop(): Promise<void> {
    const running = child;
    if (!running) return;
    const exited = new Promise<void>((r) => running.once('exit', () => r()));
    running.kill('SIGTERM');
    await exited;
  }

  async function withClient<T>(fn: (c: LibvirtClient) => Promise<T>): Promise<T> {
    const c = await LibvirtClient.connect({ uri, reconnect: false });
    try {
      return await fn(c);
    } finally {
      await c.close();
    }
  }

  await start();
  await withClient(async (c) => {
    const p = await c.storage.poolDefineXml(
      `<pool type='dir'><name>${pool}</name><target><path>${poolPath}</path></target></pool>`,
    );
    await c.storage.poolCreate(p);
  });

  return {
    uri,
    pool,
    poolPath,
    dir,
    get pid() {
      return child?.pid;
    },
    stop,
    start,
    async restart() {
      await stop();
      await start();
    },
    inventory: (prefix = '') =>
      withClient(async (c) => {
        const domains = (await c.domains.listAll()).map((d) => d.name).filter((n) => n.startsWith(prefix));
        // Throws NOT_FOUND when the pool does not exist: an empty list must mean an empty pool.
        const p = await c.storage.poolLookupByName(pool);
        await c.storage.poolRefresh(p);
        const volumes = (await c.storage.poolListAllVolumes(p))
          .map((v) => v.name)
          .filter((n) => n.startsWith(prefix));
        return { domains: domains.sort(), volumes: volumes.sort() };
      }),
    async dispose() {
      if (!child) await start().catch(() => {});
      if (child) {
        await withClient(async (c) => {
          for (const d of await c.domains.listAll()) await c.domains.destroy(d).catch(() => {});
        }).catch(() => {});
        await stop();
      }
      killLeftoverQemu(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The libvirtd.conf lines of a TLS listener on 127.0.0.1 (none without one). */
function tlsConfig(tls: PrivateTlsListener | undefined): string {
  if (!tls) return '';
  return [
    'listen_tls = 1',
    'listen_tcp = 0',
    'listen_addr = "127.0.0.1"',
    `tls_port = "${tls.port}"`,
    'auth_tls = "none"',
    `ca_file = "${tls.caFile}"`,
    `cert_file = "${tls.certFile}"`,
    `key_file = "${tls.keyFile}"`,
    '',
  ].join('\n');
}

/** Kills QEMU processes whose pid files are in this daemon's state folder (a daemon that would not start). */
function killLeftoverQemu(dir: string): void {
  const run = join(dir, 'run', 'qemu');
  if (!existsSync(run)) return;
  for (const name of readdirSafe(run)) {
    if (!name.endsWith('.pid')) continue;
    const pid = Number(readFileSync(join(run, name), 'utf8').trim());
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
