import { randomInt, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import { canBind } from './port-probe.js';

/** Options of the {@link PortAllocator}. */
export interface PortAllocatorOptions {
  /** Host ports handed out for `'auto'`, inclusive (default 20000-29999). */
  readonly range?: readonly [number, number];
  /** Directory of lease files shared by every vmkit process on this host (default `<tmpdir>/vmkit-port-leases`). */
  readonly leaseDir?: string;
  /** Check that a port can really be bound before leasing it (default true). */
  readonly probe?: boolean;
}

/** What a lease file records. */
export interface PortLease {
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  /** `<providerId>/<node name>`. */
  readonly owner: string;
  /** The process that took the lease. */
  readonly pid: number;
  /** `pending` until the node exists, then `bound` until it is destroyed. */
  readonly state: 'pending' | 'bound';
  readonly at: string;
}

/**
 * Leases host ports so that no two nodes get the same one, also across processes: each lease is a
 * file created with O_EXCL in a shared directory. A pending lease whose process died is reclaimed;
 * bound leases last until their node is destroyed (or found gone by {@link PortAllocator.reconcile}).
 */
export class PortAllocator {
  readonly #min: number;
  readonly #max: number;
  readonly #dir: string;
  readonly #probe: boolean;
  #ready: Promise<void> | undefined;

  constructor(options: PortAllocatorOptions = {}) {
    const [min, max] = options.range ?? [20000, 29999];
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1024 || max > 65535 || min > max) {
      throw invalidArgument(
        'ports.range',
        `must be two integers 1024 <= min <= max <= 65535 (got ${min}-${max})`,
      );
    }
    this.#min = min;
    this.#max = max;
    this.#dir = options.leaseDir ?? join(tmpdir(), 'vmkit-port-leases');
    this.#probe = options.probe ?? true;
  }

  /** The lease directory. */
  get leaseDir(): string {
    return this.#dir;
  }

  /** Leases a free port for `owner`: the given one, or any in the range when `wanted` is `'auto'`. */
  async lease(
    owner: string,
    protocol: 'tcp' | 'udp',
    hostIp: string,
    wanted: number | 'auto',
  ): Promise<number> {
    await this.#init();
    if (wanted !== 'auto') {
      if (await this.#tryLease(owner, protocol, hostIp, wanted)) return wanted;
      throw new VmkitError('CONFLICT', `host port ${protocol}/${wanted} is in use or leased`, {
        details: { port: wanted },
      });
    }
    const size = this.#max - this.#min + 1;
    const start = randomInt(size);
    for (let i = 0; i < size; i++) {
      const port = this.#min + ((start + i) % size);
      if (await this.#tryLease(owner, protocol, hostIp, port)) return port;
    }
    throw new VmkitError('CONFLICT', `no free host port in ${this.#min}-${this.#max}`, {
      details: { protocol },
    });
  }

  /** Marks an owner's leases bound: they now last until {@link PortAllocator.releaseOwner}. */
  async commit(owner: string): Promise<void> {
    for (const lease of await this.leases()) {
      if (lease.owner === owner && lease.state === 'pending') {
        await this.#write(lease.protocol, lease.port, { ...lease, state: 'bound' }, false);
      }
    }
  }

  /** Releases every lease of an owner. */
  async releaseOwner(owner: string): Promise<void> {
    for (const lease of await this.leases()) {
      if (lease.owner === owner) await unlink(this.#file(lease.protocol, lease.port)).catch(() => {});
    }
  }

  /** Releases bound leases of `ownerPrefix` whose owner is not in `live` (their nodes are gone). */
  async reconcile(ownerPrefix: string, live: ReadonlySet<string>): Promise<number> {
    let released = 0;
    for (const lease of await this.leases()) {
      if (lease.owner.startsWith(ownerPrefix) && lease.state === 'bound' && !live.has(lease.owner)) {
        await unlink(this.#file(lease.protocol, lease.port)).catch(() => {});
        released++;
      }
    }
    return released;
  }

  /** Every lease on this host. */
  async leases(): Promise<PortLease[]> {
    await this.#init();
    const out: PortLease[] = [];
    for (const name of await readdir(this.#dir)) {
      if (!name.endsWith('.lease')) continue;
      const lease = await this.#read(join(this.#dir, name));
      if (lease) out.push(lease);
    }
    return out;
  }

  async #tryLease(owner: string, protocol: 'tcp' | 'udp', hostIp: string, port: number): Promise<boolean> {
    const file = this.#file(protocol, port);
    const lease: PortLease = {
      port,
      protocol,
      owner,
      pid: process.pid,
      state: 'pending',
      at: new Date().toISOString(),
    };
    if (!(await this.#write(protocol, port, lease, true))) {
      const held = await this.#read(file);
      if (held?.state !== 'pending' || processAlive(held.pid)) return false;
      // A pending lease of a dead process: reclaim it once, atomically.
      await unlink(file).catch(() => {});
      if (!(await this.#write(protocol, port, lease, true))) return false;
    }
    if (this.#probe && !(await canBind(protocol, hostIp, port))) {
      await unlink(file).catch(() => {});
      return false;
    }
    return true;
  }

  /** Writes a lease; with `exclusive`, only if none exists (returns false then). */
  async #write(protocol: string, port: number, lease: PortLease, exclusive: boolean): Promise<boolean> {
    const file = this.#file(protocol, port);
    const body = JSON.stringify(lease);
    if (exclusive) {
      try {
        const handle = await open(file, 'wx');
        await handle.writeFile(body);
        await handle.close();
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw error;
      }
    }
    const tmp = `${file}.${randomUUID()}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, file);
    return true;
  }

  async #read(file: string): Promise<PortLease | undefined> {
    try {
      const lease = JSON.parse(await readFile(file, 'utf8')) as PortLease;
      return typeof lease.port === 'number' && typeof lease.owner === 'string' ? lease : undefined;
    } catch {
      return undefined; // being written, or gone
    }
  }

  #file(protocol: string, port: number): string {
    return join(this.#dir, `${protocol}-${port}.lease`);
  }

  #init(): Promise<void> {
    this.#ready ??= mkdir(this.#dir, { recursive: true, mode: 0o1777 }).then(() => undefined);
    return this.#ready;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
