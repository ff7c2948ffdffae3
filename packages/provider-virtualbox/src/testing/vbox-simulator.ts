import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventHandlers } from './sim/handlers-events.js';
import { guestHandlers } from './sim/handlers-guest.js';
import { machineHandlers } from './sim/handlers-machine.js';
import { mediaHandlers } from './sim/handlers-media.js';
import { networkHandlers } from './sim/handlers-network.js';
import { sessionHandlers } from './sim/handlers-session.js';
import { sharedFolderHandlers } from './sim/handlers-shared-folders.js';
import { vboxHandlers } from './sim/handlers-vbox.js';
import { SimCall, type SimHandler } from './sim/sim-call.js';
import { ResultCode, SimFault } from './sim/sim-fault.js';
import type { SimMachine } from './sim/sim-model.js';
import { ErrorInfoView } from './sim/sim-model.js';
import { type MediumWrite, SimWorld } from './sim/sim-world.js';
import { parseRequest, renderFault, renderResponse } from './sim/soap-envelope.js';
import { Websessions } from './sim/websessions.js';
import { loadWsdlCatalog } from './sim/wsdl-catalog.js';
import {
  DEFAULT_BEHAVIOUR,
  type SimFaultRule,
  type SimGuestRun,
  type SimMachineInfo,
  type SimMediumInfo,
  type SimRejection,
  type SimRuntimeError,
  type VboxSimulatorOptions,
} from './vbox-simulator-options.js';

const HANDLERS: Record<string, SimHandler> = {
  ...vboxHandlers,
  ...machineHandlers,
  ...sharedFolderHandlers,
  ...sessionHandlers,
  ...mediaHandlers,
  ...networkHandlers,
  ...eventHandlers,
  ...guestHandlers,
};

/** The medium a machine boots from: in boot order, the first device type with a medium attached (lowest port first). */
function bootMedium(m: SimMachine): string | undefined {
  for (const type of m.settings.bootOrder) {
    const first = m.settings.attachments
      .filter((a) => a.type === type && a.medium)
      .sort((a, b) => a.port - b.port || a.device - b.device)[0];
    if (first?.medium) return first.medium.location;
  }
  return undefined;
}

/**
 * A strict stand-in for VirtualBox's web service (vboxwebsrv) on 127.0.0.1: SOAP 1.1 over HTTP,
 * every request checked against the WSDL `virtualbox-soap` ships, websessions and managed object
 * references, machines, sessions and locks, media with parents and children, NAT rules, progress
 * objects and simulated guests. See `docs/virtualbox.md` for the rules it enforces.
 */
export class VboxSimulator {
  readonly username: string;
  readonly password: string;
  readonly #world: SimWorld;
  /** Requests answered, by operation. */
  readonly calls = new Map<string, number>();
  /** Requests rejected for breaking a rule of the API or the WSDL. */
  readonly rejections: SimRejection[] = [];
  readonly #catalog = loadWsdlCatalog();
  readonly #websessions: Websessions;
  readonly #faults: Array<SimFaultRule & { seen: number }> = [];
  #madeFolder: string | undefined;
  #stopAfter: { operation: string; nth: number; seen: number; restartAfterMs?: number } | undefined;
  #server: Server | undefined;
  #port: number;

  constructor(options: VboxSimulatorOptions = {}) {
    this.username = options.username ?? 'vmkit';
    this.password = options.password ?? 'vmkit-sim';
    this.#port = options.port ?? 0;
    this.#websessions = new Websessions(options.idleTimeoutMs ?? 300_000);
    this.#world = new SimWorld(
      { ...DEFAULT_BEHAVIOUR, ...options.behaviour },
      options.hostInterfaces ?? [
        { name: 'eth0', type: 'Bridged', ip: '192.168.1.10' },
        { name: 'vboxnet0', type: 'HostOnly', ip: '192.168.56.1' },
      ],
      options.machineFolder ?? this.#ownFolder(),
      options.additionsIso ?? '',
    );
  }

  /** The endpoint URL (`http://127.0.0.1:<port>/`). */
  get url(): string {
    return `http://127.0.0.1:${this.#port}/`;
  }

  /** Total requests answered (successfully or not). */
  get requestCount(): number {
    let n = 0;
    for (const v of this.calls.values()) n += v;
    return n;
  }

  /** Open websessions and live references. */
  get websessions(): { count: number; references: number } {
    return { count: this.#websessions.count, references: this.#websessions.references };
  }

  /** Starts listening (again, on the same port after {@link VboxSimulator.stop}). */
  async start(): Promise<void> {
    if (this.#server) return;
    const server = createServer((req, res) => void this.#serve(req, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /**
   * Stops listening and drops connections, as a stopped vboxwebsrv: the registry stays (VBoxSVC
   * runs on), websessions and every managed object reference are forgotten, locks held by client
   * sessions are released and machines never registered are released (see `SimWorld.webServiceGone`).
   */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#websessions.clear();
    this.#world.webServiceGone();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Stops and ends every simulated guest; removes the machine folder it made itself. */
  async close(): Promise<void> {
    await this.#world.stopAll();
    await this.stop();
    if (this.#madeFolder) await rm(this.#madeFolder, { recursive: true, force: true });
  }

  /** A temporary machine folder, removed by {@link VboxSimulator.close}. */
  #ownFolder(): string {
    this.#madeFolder = mkdtempSync(join(tmpdir(), 'vmkit-vbox-sim-'));
    return this.#madeFolder;
  }

  /** Answers the `nth` next call of an operation with a RuntimeFault instead of running it. */
  injectFault(rule: SimFaultRule): void {
    this.#faults.push({ ...rule, seen: 0 });
  }

  /**
   * Stops the simulator right after answering the `nth` next call of an operation; with
   * `restartAfterMs`, it listens again (same port, no websession known) that long after it stopped,
   * as a restarted vboxwebsrv. {@link VboxSimulator.restarted} tells when it is back.
   */
  stopAfter(operation: string, nth = 1, restartAfterMs?: number): void {
    this.#stopAfter = {
      operation,
      nth,
      seen: 0,
      ...(restartAfterMs === undefined ? {} : { restartAfterMs }),
    };
  }

  /**
   * Restarts the web service now, as `vboxwebsrv` restarted: connections are dropped, every
   * websession and managed object reference becomes invalid (a call with one is answered with
   * an InvalidObjectFault), calls meanwhile are refused; it listens again on the same port after
   * `downMs`.
   */
  async restartWebService(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
    this.restarts++;
    for (const waiter of this.#restartWaiters.splice(0)) waiter();
  }

  /** How many times the web service was restarted (by {@link VboxSimulator.restartWebService} or `stopAfter`). */
  restarts = 0;
  readonly #restartWaiters: Array<() => void> = [];

  /** Resolves when the web service has restarted `count` times in all. */
  restarted(count = 1): Promise<void> {
    if (this.restarts >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (this.restarts >= count ? resolve() : this.#restartWaiters.push(check));
      this.#restartWaiters.push(check);
    });
  }

  /** Every write a running guest made to a medium (a write to a medium with children is `corrupting`). */
  writes(): readonly MediumWrite[] {
    return [...this.#world.writes];
  }

  /**
   * Every user-data script a simulated guest ran (cloud-init's part of a boot with a NoCloud
   * drive), in order, as it stands now. Their root folders are removed by {@link VboxSimulator.close}.
   */
  guestRuns(): SimGuestRun[] {
    return this.#world.guestRuns.map(({ machine, instanceId, script }) => ({
      machine,
      instanceId,
      root: script.root,
      calls: script.calls.map((c) => ({ command: c.command, args: [...c.args] })),
      output: script.output,
      ...(script.exitCode === undefined ? {} : { exitCode: script.exitCode }),
      ...(script.error === undefined ? {} : { error: script.error }),
    }));
  }

  /**
   * The VM of a running machine reports a runtime error, as VirtualBox's `IRuntimeErrorEvent` on
   * its console's event source: a fatal one pauses the machine first. The default is the full host
   * disk: `DrvVD_DISKFULL`, fatal (what VirtualBox reports when a disk write finds no space).
   */
  injectRuntimeError(machine: string, error: Partial<SimRuntimeError> = {}): void {
    this.#world.runtimeError(this.#world.findMachine(machine), {
      id: error.id ?? 'DrvVD_DISKFULL',
      fatal: error.fatal ?? true,
      message:
        error.message ?? 'The host disk holding a virtual disk of this machine is full: the VM was paused',
    });
  }

  /** The guest of a running machine panics: the machine is `Stuck` ("Guru Meditation") until powered down. */
  guestPanic(machine: string): void {
    this.#world.guestPanic(this.#world.findMachine(machine));
  }

  /** The VM process of a machine is killed: the machine is `Aborted`, its locks and console gone. */
  killVmProcess(machine: string): void {
    const m = this.#world.findMachine(machine);
    if (!m.consoleEvents) throw new Error(`${machine} has no VM process (${m.state})`);
    this.#world.powerOff(m, 'Aborted');
  }

  /** Locations of the media deleted so far. */
  deletedMedia(): readonly string[] {
    return [...this.#world.deletedMedia];
  }

  /** Forgets call counts and rejections. */
  resetCounters(): void {
    this.calls.clear();
    this.rejections.length = 0;
  }

  /** Machines (registered or being made). */
  machines(): SimMachineInfo[] {
    return this.#world.machines.map((m) => ({
      name: m.name,
      id: m.id,
      registered: m.registered,
      state: m.state,
      locked: m.locked,
      memoryMB: m.settings.memoryMB,
      cpus: m.settings.cpus,
      firmwareType: m.settings.firmwareType,
      extraData: Object.fromEntries(m.settings.extraData),
      media: m.settings.attachments.flatMap((a) => (a.medium ? [a.medium.location] : [])),
      bootMedium: bootMedium(m),
      redirects: m.settings.adapters.flatMap((a, slot) =>
        a.redirects.map((r) => ({ slot, name: r.name, hostPort: r.hostPort, guestPort: r.guestPort })),
      ),
      adapters: m.settings.adapters.flatMap((a, slot) =>
        a.enabled && a.attachmentType !== 'Null'
          ? [
              {
                slot,
                type: a.attachmentType,
                mac: a.mac,
                network:
                  a.bridgedInterface ||
                  a.hostOnlyInterface ||
                  (a.attachmentType === 'Internal' ? a.internalNetwork : ''),
              },
            ]
          : [],
      ),
      snapshots: m.snapshots.map((s) => s.name),
      sharedFolders: m.settings.sharedFolders.map((f) => ({ ...f })),
      cloudInstances: [...m.cloudInstances],
      cloudInitPasses: m.cloudInitPasses,
      runtimeErrors: m.runtimeErrors.map((e) => ({ ...e })),
      consoleListeners: m.consoleEvents?.listeners.size ?? 0,
      scancodes: [...m.scancodes],
      installerFetches: m.installerFetches.map((f) => ({ ...f })),
      localhostReachable: m.settings.adapters.flatMap((a, slot) => (a.localhostReachable ? [slot] : [])),
    }));
  }

  /** The media registry. */
  media(): SimMediumInfo[] {
    return this.#world.media.map((m) => ({
      location: m.location,
      deviceType: m.deviceType,
      format: m.format,
      ...(m.parent ? { parent: m.parent.location } : {}),
      children: m.children.size,
      writes: m.writes,
      file: !m.virtual,
    }));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let operation = '?';
    let call: SimCall | undefined;
    let status = 200;
    let body: string;
    try {
      if (req.method !== 'POST') throw new SimFault('client', 'HTTP GET method not implemented', 0, true);
      const request = parseRequest(Buffer.concat(chunks).toString('utf8'), this.#catalog);
      operation = request.operation;
      this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
      call = new SimCall(operation, request.args, this.#world, this.#websessions, this);
      const handler = HANDLERS[operation];
      if (!handler) throw new SimFault('runtime', `${operation} is not simulated`, 0x80004001, true);
      this.#injected(operation);
      body = renderResponse(operation, await handler(call), this.#catalog);
    } catch (error) {
      const fault =
        error instanceof SimFault
          ? error
          : new SimFault('runtime', String((error as Error)?.message ?? error), ResultCode.E_FAIL);
      if (fault.misuse) this.rejections.push({ operation, message: fault.message });
      let info = '';
      if (fault.kind === 'runtime') {
        try {
          info = call?.ref(new ErrorInfoView(fault.resultCode, fault.message)) ?? '';
        } catch {
          info = '';
        }
      }
      status = 500;
      body = renderFault(fault, info);
    }
    res.writeHead(status, {
      'content-type': 'text/xml; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    const stop = this.#stopAfter;
    if (stop && stop.operation === operation && ++stop.seen === stop.nth) {
      this.#stopAfter = undefined;
      const downMs = stop.restartAfterMs;
      res.once('finish', () => void (downMs === undefined ? this.stop() : this.restartWebService(downMs)));
    }
  }

  #injected(operation: string): void {
    const i = this.#faults.findIndex((f) => f.operation === operation && ++f.seen === (f.nth ?? 1));
    if (i < 0) return;
    const [rule] = this.#faults.splice(i, 1);
    throw new SimFault(
      'runtime',
      rule?.message ?? `Injected fault in ${operation}`,
      rule?.resultCode ?? ResultCode.VBOX_E_IPRT_ERROR,
      false,
    );
  }
}

/**
 * Starts a {@link VboxSimulator} on 127.0.0.1 and returns it listening. Point
 * `virtualBoxProvider({ url: sim.url, username: sim.username, password: sim.password })` at it.
 */
export async function startVboxSimulator(options: VboxSimulatorOptions = {}): Promise<VboxSimulator> {
  const sim = new VboxSimulator(options);
  await sim.start();
  return sim;
}
