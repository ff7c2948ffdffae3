import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MasterSpec } from '../model/master-spec.js';
import { STANDARD_BUILD_STEPS } from '../spi/master-build.js';
import { type FixtureChild, spawnFixture } from './process-fixture.fixture.js';
import { debianSpec } from './service.fixture.js';

/** The host process of a fleet over a filesystem store (store-s3 has its own main over a bucket). */
export const FLEET_MAIN = fileURLToPath(new URL('./build-race-main.fixture.mjs', import.meta.url));

/** `count` distinct specs the memory provider builds: `img-1` to `img-<count>`. */
export function fleetImages(count: number): MasterSpec[] {
  return Array.from({ length: count }, (_, i) => debianSpec(`img-${i + 1}`));
}

/** How to run a fleet of host processes (see `fleetHost` in build-race-main.fixture.mjs). */
export interface FleetOptions {
  /** The host script: {@link FLEET_MAIN} or store-s3's main. */
  readonly main: string;
  readonly hosts: number;
  readonly images: readonly MasterSpec[];
  /** How long each build takes (the memory provider's `buildDelayMs`). */
  readonly buildDelayMs: number;
  /** The build lease's `ttlMs` (renewals every quarter of it). */
  readonly ttlMs: number;
  /** The environment naming the store: `VMKIT_STORE`, or `VMKIT_BUCKET` and `VMKIT_ENDPOINT`. */
  readonly storeEnv: Readonly<Record<string, string>>;
  /** A scratch folder for the hosts' port leases. */
  readonly dir: string;
  /** Everything must be over this long after the start, or every host is killed and waits fail. */
  readonly deadlineMs: number;
}

type Line = Record<string, unknown>;

/** A log line a host printed. */
export interface HostLog {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** The last line of a host: its provider's counters and the store calls it made. */
export interface HostDone {
  readonly host: string;
  readonly pid: number;
  /** Builds its hypervisor ran (memory provider stats). */
  readonly builds: number;
  /** Masters its hypervisor adopted from the store. */
  readonly imports: number;
  /** From `go` to every image ready. */
  readonly ms: number;
  /** Store calls from `go` on, by operation (list, get, put, remove, exists, other). */
  readonly ops: Readonly<Record<string, number>>;
  /** Store calls of its start-up (before `go`). */
  readonly startupOps: Readonly<Record<string, number>>;
  /** The time its store calls from `go` on took, summed by operation (ms). */
  readonly opMs: Readonly<Record<string, number>>;
  /** Its CPU time (user and system) from `go` to every image ready (ms). */
  readonly cpuMs: number;
  /** When it was told to go, in ms since its process started. */
  readonly goAt: number;
  /** Its start-up, in ms: imports, provider, compute service (catalogue load), and ready since its start. */
  readonly phases: Readonly<{ importMs: number; providerMs: number; serviceMs: number; readyAt: number }>;
}

const FIRST_STEP = STANDARD_BUILD_STEPS[0];

/** One host process of a fleet, read from what it printed. */
export class FleetHost {
  /** Set once it was killed on purpose. */
  killed = false;
  constructor(
    readonly name: string,
    readonly proc: FixtureChild,
  ) {}

  get pid(): number {
    return this.proc.child.pid as number;
  }

  #events(): Array<{ ask: string; phase?: string; step?: string }> {
    return this.proc.lines
      .filter((l) => 'event' in l)
      .map((l) => ({ ask: l.ask as string, ...(l.event as { phase?: string; step?: string }) }));
  }

  /** Images whose build it started (it reported its first build step). */
  builds(): string[] {
    return this.#events()
      .filter((e) => e.phase === 'build' && e.step === FIRST_STEP)
      .map((e) => e.ask);
  }

  /** Images it adopted from the store (it reported downloading the shared master). */
  adoptions(): string[] {
    return this.#events()
      .filter((e) => e.phase === 'transfer' && e.step === 'download')
      .map((e) => e.ask);
  }

  /** Images it reported ready. */
  ready(): string[] {
    return this.proc.lines.filter((l) => 'image' in l).map((l) => (l.image as { id: string }).id);
  }

  /** Images it reported failed, with the error. */
  failed(): Line[] {
    return this.proc.lines.filter((l) => 'failed' in l || 'fatal' in l);
  }

  /** Its log lines (at `levels`, default all). */
  logs(...levels: HostLog['level'][]): HostLog[] {
    return this.proc.lines
      .filter((l) => 'log' in l)
      .map((l) => l.log as HostLog)
      .filter((l) => levels.length === 0 || levels.includes(l.level));
  }

  /** Its last line, once it printed it. */
  done(): HostDone | undefined {
    return this.proc.lines.find((l) => 'done' in l)?.done as HostDone | undefined;
  }

  /** Images it started building and has not reported ready: its builds in progress. */
  buildsInProgress(): string[] {
    const ready = new Set(this.ready());
    return this.builds().filter((id) => !ready.has(id));
  }

  /** One line saying what became of it, for failure messages. */
  describe(): string {
    const failed = this.failed().map((l) => JSON.stringify(l));
    const warned = this.logs('warn', 'error').map((l) => `${l.message} ${JSON.stringify(l.fields)}`);
    return `${this.name} (pid ${this.pid}${this.killed ? ', killed' : ''}): ready [${this.ready().join(' ')}], built [${this.builds().join(' ')}], adopted [${this.adoptions().join(' ')}]${failed.length ? `, failed ${failed.join(' ')}` : ''}${warned.length ? `, logged ${warned.join('; ')}` : ''}`;
  }
}

/**
 * A fleet of host processes on one store, each with its own in-memory hypervisor. It runs within
 * a fixed deadline: past it every process is killed and every wait fails with what each host
 * reported. `dispose` kills whatever still runs; call it in `finally`/`afterEach`.
 */
export class Fleet {
  readonly hosts: FleetHost[];
  readonly #timer: NodeJS.Timeout;
  readonly #expired: Promise<never>;

  private constructor(hosts: FleetHost[], deadlineMs: number) {
    this.hosts = hosts;
    let expire: (error: Error) => void = () => {};
    this.#expired = new Promise<never>((_, reject) => {
      expire = reject;
    });
    this.#expired.catch(() => {});
    this.#timer = setTimeout(() => {
      const why = new Error(`the fleet ran past its ${deadlineMs} ms deadline:\n${this.summary()}`);
      this.dispose();
      expire(why);
    }, deadlineMs);
  }

  /** Starts every host and waits until each has its compute service up. */
  static async start(options: FleetOptions): Promise<Fleet> {
    const hosts = Array.from({ length: options.hosts }, (_, i) => {
      const name = `host-${i + 1}`;
      const env = {
        ...options.storeEnv,
        VMKIT_FLEET: '1',
        VMKIT_HOST: name,
        VMKIT_IMAGES: JSON.stringify(options.images),
        VMKIT_BUILD_DELAY_MS: String(options.buildDelayMs),
        VMKIT_LEASE_TTL_MS: String(options.ttlMs),
        VMKIT_LEASES: join(options.dir, `ports-${name}`),
        VMKIT_MAX_MS: String(options.deadlineMs),
      };
      return new FleetHost(name, spawnFixture(options.main, env, { stdin: true }));
    });
    const fleet = new Fleet(hosts, options.deadlineMs);
    try {
      await fleet.within(
        'every host started',
        Promise.all(hosts.map((h) => h.proc.waitFor((l) => 'ready' in l))),
      );
    } catch (error) {
      fleet.dispose();
      throw error;
    }
    return fleet;
  }

  /** Lets every host ask for its images. */
  go(): void {
    for (const h of this.hosts) h.proc.child.stdin?.end('go\n');
  }

  /** `work`, or a failure naming `what` and every host's state when the deadline passes first. */
  async within<T>(what: string, work: Promise<T>): Promise<T> {
    try {
      return await Promise.race([work, this.#expired]);
    } catch (error) {
      throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  /** Polls `check` until it answers something, within the deadline. */
  until<T>(what: string, check: () => T | undefined): Promise<T> {
    return this.within(
      `waiting until ${what}`,
      new Promise<T>((resolve) => {
        const poll = () => {
          const found = check();
          if (found !== undefined) resolve(found);
          else setTimeout(poll, 10).unref();
        };
        poll();
      }),
    );
  }

  /** Kills `host` with SIGKILL and waits until it is gone and all it printed is read. */
  async kill(host: FleetHost): Promise<void> {
    host.killed = true;
    host.proc.child.kill('SIGKILL');
    await this.within(`${host.name} ending`, host.proc.exited);
  }

  /** Waits until every host has exited; returns the hosts not killed. */
  async end(): Promise<FleetHost[]> {
    await this.within('every host ending', Promise.all(this.hosts.map((h) => h.proc.exited)));
    clearTimeout(this.#timer);
    return this.hosts.filter((h) => !h.killed);
  }

  /** Kills every host still running. */
  dispose(): void {
    clearTimeout(this.#timer);
    for (const h of this.hosts)
      if (h.proc.child.exitCode === null && h.proc.child.signalCode === null) h.proc.child.kill('SIGKILL');
  }

  /** What every host reported, one line each. */
  summary(): string {
    return this.hosts.map((h) => h.describe()).join('\n');
  }
}
