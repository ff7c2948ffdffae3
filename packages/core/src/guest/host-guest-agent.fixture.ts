import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { constants, networkInterfaces } from 'node:os';
import { VmkitError } from '../errors/vmkit-error.js';
import type {
  GuestAgent,
  GuestAgentCallOptions,
  GuestFileChunk,
  GuestInterface,
  GuestProcessStatus,
  GuestSpawnRequest,
} from '../spi/guest-agent.js';
import { raceAbort, throwIfAborted } from '../util/abort.js';

/** Options of a {@link HostGuestAgent}. */
export interface HostGuestAgentOptions {
  readonly maxChunkBytes?: number;
  /** Extra environment of every spawned process (to tell "guests" apart, or set `PATH`). */
  readonly env?: Readonly<Record<string, string>>;
  /** As {@link HostGuestAgent.down}, shared between sessions. */
  readonly isDown?: () => boolean;
  /** What runs for a spawned path (e.g. `/bin/sh` → busybox `sh`). */
  readonly programs?: Readonly<Record<string, readonly string[]>>;
}

/**
 * A test-only {@link GuestAgent} whose "guest" is this host: it really spawns the programs (so
 * core's `/bin/sh` wrapper really runs), reads and writes real files, and counts its calls (round
 * trips). It honours `signal` as an agent client would (the wait ends, the work goes on).
 */
export class HostGuestAgent implements GuestAgent {
  readonly maxChunkBytes: number;
  /** Calls made, by primitive. */
  readonly calls: Record<string, number> = {};
  /** Pids of every process spawned. */
  readonly spawned: number[] = [];
  /** Set to make every call fail `UNSUPPORTED` (no agent answering). */
  down = false;
  readonly #isDown: () => boolean;
  readonly #processes = new Map<number, GuestProcessStatus>();
  readonly #files = new Map<number, { fd: number }>();
  #closed = false;

  readonly #env: NodeJS.ProcessEnv;

  readonly #programs: Readonly<Record<string, readonly string[]>>;

  /** `programs`: what runs for a spawned path (e.g. `/bin/sh` → busybox `sh`). */
  constructor(options: HostGuestAgentOptions = {}) {
    this.maxChunkBytes = options.maxChunkBytes ?? 64 * 1024;
    this.#programs = options.programs ?? {};
    this.#isDown = options.isDown ?? (() => false);
    this.#env = { ...process.env, ...options.env };
  }

  #call<T>(name: string, options: GuestAgentCallOptions | undefined, work: () => T | Promise<T>): Promise<T> {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
    if (this.#closed) return Promise.reject(new VmkitError('CONFLICT', 'agent session is closed'));
    if ((this.down || this.#isDown()) && name !== 'close')
      return Promise.reject(new VmkitError('UNSUPPORTED', 'no guest agent answers', { retryable: true }));
    try {
      throwIfAborted(options?.signal, `agent ${name}`);
      return raceAbort(Promise.resolve(work()), options?.signal, `agent ${name}`);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** All calls in all. */
  get totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  ping(options?: GuestAgentCallOptions): Promise<void> {
    return this.#call('ping', options, () => undefined);
  }

  spawn(request: GuestSpawnRequest, options?: GuestAgentCallOptions): Promise<number> {
    return this.#call('spawn', options, () => {
      const [program, ...prefix] = this.#programs[request.path] ?? [request.path];
      const child = spawn(program as string, [...prefix, ...request.args], {
        stdio: 'ignore',
        env: this.#env,
      });
      return new Promise<number>((resolve, reject) => {
        child.once('error', (error) => reject(new VmkitError('PROVIDER', `spawn failed: ${error.message}`)));
        child.once('spawn', () => {
          const pid = child.pid as number;
          this.spawned.push(pid);
          this.#processes.set(pid, { exited: false });
          child.once('exit', (code, signal) => {
            this.#processes.set(pid, {
              exited: true,
              ...(code === null ? {} : { exitCode: code }),
              ...(signal === null ? {} : { signal: signalNumber(signal) }),
            });
          });
          resolve(pid);
        });
      });
    });
  }

  processStatus(pid: number, options?: GuestAgentCallOptions): Promise<GuestProcessStatus> {
    return this.#call('processStatus', options, () => {
      const status = this.#processes.get(pid);
      if (!status) throw new VmkitError('NOT_FOUND', `no process ${pid}`);
      if (status.exited) this.#processes.delete(pid);
      return status;
    });
  }

  openFile(path: string, mode: 'r' | 'w' | 'a', options?: GuestAgentCallOptions): Promise<number> {
    return this.#call('openFile', options, () => {
      let fd: number;
      try {
        fd = openSync(path, mode, 0o600);
      } catch (error) {
        throw new VmkitError('PROVIDER', `open ${path}: ${(error as Error).message}`);
      }
      this.#files.set(fd, { fd });
      return fd;
    });
  }

  readFile(handle: number, count: number, options?: GuestAgentCallOptions): Promise<GuestFileChunk> {
    return this.#call('readFile', options, () => {
      const file = this.#file(handle);
      if (count > this.maxChunkBytes)
        throw new VmkitError('PROVIDER', `read of ${count} bytes over the limit`);
      const buffer = Buffer.alloc(count);
      const n = readSync(file.fd, buffer, 0, count, null);
      return { data: buffer.subarray(0, n), eof: n < count };
    });
  }

  writeFile(handle: number, data: Uint8Array, options?: GuestAgentCallOptions): Promise<void> {
    return this.#call('writeFile', options, () => {
      if (data.byteLength > this.maxChunkBytes) throw new VmkitError('PROVIDER', 'write over the limit');
      const file = this.#file(handle);
      let at = 0;
      while (at < data.byteLength) at += writeSync(file.fd, data, at);
    });
  }

  closeFile(handle: number, options?: GuestAgentCallOptions): Promise<void> {
    return this.#call('closeFile', options, () => {
      closeSync(this.#file(handle).fd);
      this.#files.delete(handle);
    });
  }

  networkInterfaces(options?: GuestAgentCallOptions): Promise<readonly GuestInterface[]> {
    return this.#call('networkInterfaces', options, () =>
      Object.entries(networkInterfaces()).map(([name, list]) => ({
        name,
        ...(list?.[0]?.mac ? { mac: list[0].mac } : {}),
        addresses: (list ?? []).map((a) => ({
          family: a.family === 'IPv4' ? ('ipv4' as const) : ('ipv6' as const),
          address: a.address,
          prefix: Number(a.cidr?.split('/')[1] ?? 0),
        })),
      })),
    );
  }

  /** Open file handles (a leak check). */
  get openHandles(): number {
    return this.#files.size;
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #file(handle: number): { fd: number } {
    const file = this.#files.get(handle);
    if (!file) throw new VmkitError('NOT_FOUND', `no file handle ${handle}`);
    return file;
  }
}

function signalNumber(name: NodeJS.Signals): number {
  return constants.signals[name] ?? 1;
}
