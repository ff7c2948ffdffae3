import { randomInt, randomUUID } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import { AvoidedPorts, addressLeaseFileName, leaseFileName, processAlive } from './lease-files.js';
import { canBind, probeBind } from './port-probe.js';

/** How host ports for `hostPort: 'auto'` are leased (also across processes). */
export interface PortAllocatorOptions {
  /** Host ports handed out for `'auto'`, inclusive (default 20000-29999). */
  readonly range?: readonly [number, number];
  /** Directory of lease files shared by every vmkit process on this host (default `<tmpdir>/vmkit-port-leases`). */
  readonly leaseDir?: string;
  /** Check that a port can really be bound before leasing it (default true). */
  readonly probe?: boolean;
}

/** Who takes a lease: a node (`owner`) and one attempt at creating it. */
export interface LeaseClaim {
  /** `<providerId>/<node name>`. */
  readonly owner: string;
  /** A token unique to this creation attempt. */
  readonly attempt: string;
  /** The remote host the ports are bound on (its identity); absent for this machine. Never probed here. */
  readonly host?: string;
}

/** Who holds a lease and how far its node got: what every lease file records. */
export interface LeaseHolding {
  /** `<providerId>/<node name>`. */
  readonly owner: string;
  /** The remote host the port is bound on (or the network is on); absent for this machine. */
  readonly host?: string;
  /** The creation attempt that took it (two attempts may race for one node name). */
  readonly attempt: string;
  /** The process that took the lease. */
  readonly pid: number;
  /** `pending` until the node exists, then `bound` until it is destroyed. */
  readonly state: 'pending' | 'bound';
  readonly at: string;
}

/** What a lease file of a host port records. */
export interface PortLease extends LeaseHolding {
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
}

/**
 * What a lease file of a guest address records: one static IPv4 address on one network, taken for
 * a node as {@link PortLease}s are (same owner, attempt, pid and state rules, same directory).
 */
export interface AddressLease extends LeaseHolding {
  /** The address, dotted. */
  readonly address: string;
  /** The network it is unique on (`network:<name>` or `interface:<name>`). */
  readonly scope: string;
}

/** A port or an address lease, as files hold them. */
type AnyLease = PortLease | AddressLease;

/**
 * Leases host ports so that no two nodes get the same one, also across processes: each lease is a
 * file created with O_EXCL in a shared directory. A pending lease whose process died is reclaimed;
 * bound leases last until their node is destroyed (or found gone by {@link PortAllocator.reconcile}).
 * Static guest addresses taken from pools ({@link PortAllocator.leaseAddress}) are leased the same
 * way, in the same directory, and committed, released and reconciled with the ports of their node.
 */
export class PortAllocator {
  readonly #min: number;
  readonly #max: number;
  readonly #dir: string;
  readonly #probe: boolean;
  #ready: Promise<void> | undefined;
  /** Lease files this process took, by attempt, until committed or released. */
  readonly #taken = new Map<string, Set<string>>();
  readonly #avoided = new AvoidedPorts();

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

  /**
   * Leases a free port for one creation attempt of a node: the given port, or any in the range
   * when `wanted` is `'auto'`. The lease stays pending until {@link PortAllocator.commit}.
   */
  async lease(
    claim: LeaseClaim,
    protocol: 'tcp' | 'udp',
    hostIp: string,
    wanted: number | 'auto',
  ): Promise<number> {
    await this.#init();
    const local = claim.host === undefined;
    if (local && this.#probe && (await probeBind(protocol, hostIp, 0)) === 'no-such-address') {
      throw invalidArgument('hostIp', `${hostIp} is not an address of this host`, { hostIp });
    }
    if (wanted !== 'auto') {
      if (await this.#tryLease(claim, protocol, hostIp, wanted)) return wanted;
      throw new VmkitError('CONFLICT', `host port ${protocol}/${wanted} is in use or leased`, {
        details: { port: wanted },
      });
    }
    const size = this.#max - this.#min + 1;
    const start = randomInt(size);
    for (let i = 0; i < size; i++) {
      const port = this.#min + ((start + i) % size);
      if (this.#avoided.has(this.#file(protocol, port, claim.host))) continue;
      if (await this.#tryLease(claim, protocol, hostIp, port)) return port;
    }
    throw new VmkitError('CONFLICT', `no free host port in ${this.#min}-${this.#max}`, {
      details: { protocol },
    });
  }

  /** Records a port the hypervisor could not bind: `'auto'` leases skip it for `forMs` (this process). */
  avoid(host: string | undefined, protocol: 'tcp' | 'udp', port: number, forMs = 600_000): void {
    this.#avoided.add(this.#file(protocol, port, host), forMs);
  }

  /** Marks an attempt's leases bound: they now last until {@link PortAllocator.releaseOwner}. */
  async commit(claim: LeaseClaim): Promise<void> {
    for (const lease of await this.#claimed(claim)) {
      if (lease.state === 'pending')
        await this.#write(this.#fileOf(lease), { ...lease, state: 'bound' }, false);
    }
    this.#taken.delete(claim.attempt);
  }

  /** Releases the leases of one attempt (its rollback, also once committed), leaving other attempts' alone. */
  async releaseAttempt(claim: LeaseClaim): Promise<void> {
    for (const lease of await this.#all()) if (sameClaim(lease, claim)) await this.#unlinkIfSame(lease);
    this.#taken.delete(claim.attempt);
  }

  /** Releases every lease of an owner (its node was destroyed). */
  async releaseOwner(owner: string): Promise<void> {
    for (const lease of await this.#all()) {
      if (lease.owner === owner) await this.#unlinkIfSame(lease);
    }
  }

  /** Releases bound leases of `ownerPrefix` whose owner is not in `live` (their nodes are gone). */
  async reconcile(ownerPrefix: string, live: ReadonlySet<string>): Promise<number> {
    let released = 0;
    for (const lease of await this.#all()) {
      if (lease.owner.startsWith(ownerPrefix) && lease.state === 'bound' && !live.has(lease.owner)) {
        await this.#unlinkIfSame(lease);
        released++;
      }
    }
    return released;
  }

  /** The current leases of an attempt, found through the ports this process leased for it. */
  async #claimed(claim: LeaseClaim): Promise<AnyLease[]> {
    const out: AnyLease[] = [];
    for (const file of this.#taken.get(claim.attempt) ?? []) {
      const lease = await this.#read(file);
      if (lease && sameClaim(lease, claim)) out.push(lease);
    }
    return out;
  }

  /** Every port lease on this host. */
  async leases(): Promise<PortLease[]> {
    return (await this.#all()).filter((l): l is PortLease => 'port' in l);
  }

  /** Every address lease on this host. */
  async addressLeases(): Promise<AddressLease[]> {
    return (await this.#all()).filter((l): l is AddressLease => 'address' in l);
  }

  async #all(): Promise<AnyLease[]> {
    await this.#init();
    const out: AnyLease[] = [];
    for (const name of await readdir(this.#dir)) {
      if (!name.endsWith('.lease')) continue;
      const file = join(this.#dir, name);
      const lease = await this.#read(file);
      // The directory is shared and world-writable: a lease counts only under the name its own
      // fields give it, so no planted content points a later unlink at another file.
      if (lease && this.#fileOf(lease) === file) out.push(lease);
    }
    return out;
  }

  /**
   * Leases the first free address of `candidates` on the network `scope` for one creation attempt
   * of a node (pending until {@link PortAllocator.commit}); `undefined` when every one is held. A
   * pending lease of a dead process is taken over, as for ports.
   */
  async leaseAddress(
    claim: LeaseClaim,
    scope: string,
    candidates: Iterable<string>,
  ): Promise<string | undefined> {
    await this.#init();
    for (const address of candidates) {
      if (await this.#take({ address, scope, ...pendingHolding(claim) }, claim)) return address;
    }
    return undefined;
  }

  /** The addresses of `candidates` on the network `scope` (of `host`) that no lease holds now. */
  async freeAddresses(scope: string, candidates: Iterable<string>, host?: string): Promise<string[]> {
    const held = new Set(
      (await this.addressLeases())
        .filter((l) => l.scope === scope && l.host === host && (l.state === 'bound' || processAlive(l.pid)))
        .map((l) => l.address),
    );
    return [...candidates].filter((a) => !held.has(a));
  }

  async #tryLease(
    claim: LeaseClaim,
    protocol: 'tcp' | 'udp',
    hostIp: string,
    port: number,
  ): Promise<boolean> {
    const lease: PortLease = { port, protocol, ...pendingHolding(claim) };
    // A remote host's port is bound there: probing this machine would say nothing about it.
    const probe = claim.host === undefined && this.#probe;
    return this.#take(lease, claim, probe ? () => canBind(protocol, hostIp, port) : undefined);
  }

  /**
   * Creates `lease`'s file exclusively (or takes over a dead process's pending one), then keeps it
   * only if `usable` (when given) says so; records it as taken by the claim's attempt.
   */
  async #take(lease: AnyLease, claim: LeaseClaim, usable?: () => Promise<boolean>): Promise<boolean> {
    const file = this.#fileOf(lease);
    if (!(await this.#write(file, lease, true))) {
      const held = await this.#read(file);
      if (held?.state !== 'pending' || processAlive(held.pid)) return false;
      // A pending lease of a dead process: replace it under a per-file lock, re-checking it is
      // still the same dead lease, with an atomic rename so the file never goes missing (a
      // missing file would let a plain exclusive create slip in).
      if (!(await this.#takeOver(file, held, lease))) return false;
    }
    if (usable && !(await usable())) {
      await this.#unlinkIfSame(lease);
      return false;
    }
    const files = this.#taken.get(claim.attempt) ?? new Set<string>();
    files.add(file);
    this.#taken.set(claim.attempt, files);
    return true;
  }

  /** Replaces the dead lease `held` in `file` by `lease`, under a lock; false if anything changed. */
  async #takeOver(file: string, held: AnyLease, lease: AnyLease): Promise<boolean> {
    const lock = `${file}.lock`;
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
    } catch {
      await this.#clearStaleLock(lock);
      return false;
    }
    try {
      const current = await this.#read(file);
      if (current?.pid !== held.pid || current.at !== held.at || current.attempt !== held.attempt)
        return false;
      const tmp = `${file}.${randomUUID()}.tmp`;
      await writeFile(tmp, JSON.stringify(lease), { flag: 'wx' });
      await rename(tmp, file);
      return true;
    } finally {
      await unlink(lock).catch(() => {});
    }
  }

  /** Removes a takeover lock left by a process that died holding it (older than 10 s). */
  async #clearStaleLock(lock: string): Promise<void> {
    try {
      const [pid, info] = await Promise.all([readFile(lock, 'utf8'), stat(lock)]);
      if (Date.now() - info.mtimeMs > 10_000 && !processAlive(Number(pid))) await unlink(lock);
    } catch {
      // gone already, or being written
    }
  }

  /** Removes a lease file only if it still holds this lease (not one taken since). */
  async #unlinkIfSame(lease: AnyLease): Promise<void> {
    const file = this.#fileOf(lease);
    const current = await this.#read(file);
    if (current && current.attempt === lease.attempt && current.owner === lease.owner) {
      await unlink(file).catch(() => {});
    }
  }

  /** Writes a lease; with `exclusive`, only if none exists (returns false then). */
  async #write(file: string, lease: AnyLease, exclusive: boolean): Promise<boolean> {
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
    // An unpredictable name, created exclusively, in a folder every user can write to.
    await writeFile(tmp, body, { flag: 'wx' });
    await rename(tmp, file);
    return true;
  }

  async #read(file: string): Promise<AnyLease | undefined> {
    try {
      const lease = JSON.parse(await readFile(file, 'utf8')) as AnyLease;
      const keyed =
        ('port' in lease && typeof lease.port === 'number') ||
        ('address' in lease && typeof lease.address === 'string' && typeof lease.scope === 'string');
      return keyed && typeof lease.owner === 'string' ? lease : undefined;
    } catch {
      return undefined; // being written, or gone
    }
  }

  #file(protocol: string, port: number, host?: string): string {
    return leaseFileName(this.#dir, protocol, port, host);
  }

  #fileOf(lease: AnyLease): string {
    return 'port' in lease
      ? this.#file(lease.protocol, lease.port, lease.host)
      : addressLeaseFileName(this.#dir, lease.scope, lease.address, lease.host);
  }

  #init(): Promise<void> {
    // Shared by every user's vmkit processes: world-writable with the sticky bit, like /tmp.
    this.#ready ??= mkdir(this.#dir, { recursive: true, mode: 0o1777 }).then(async (created) => {
      if (created !== undefined) await chmod(this.#dir, 0o1777).catch(() => {});
    });
    return this.#ready;
  }
}

/** A pending lease of `claim`, taken by this process now. */
function pendingHolding(claim: LeaseClaim): LeaseHolding {
  return {
    owner: claim.owner,
    ...(claim.host === undefined ? {} : { host: claim.host }),
    attempt: claim.attempt,
    pid: process.pid,
    state: 'pending',
    at: new Date().toISOString(),
  };
}

function sameClaim(lease: AnyLease, claim: LeaseClaim): boolean {
  return lease.owner === claim.owner && lease.attempt === claim.attempt;
}
