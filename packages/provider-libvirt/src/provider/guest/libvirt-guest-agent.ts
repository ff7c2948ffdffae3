import type {
  GuestAgent,
  GuestAgentCallOptions,
  GuestFileChunk,
  GuestInterface,
  GuestProcessStatus,
  GuestSpawnRequest,
} from '@vmkit/core/spi';
import { VmkitError } from '@vmkit/core/spi';
import type { DomainHandle } from '../../client/handles.js';
import type { QemuProcedures } from '../../client/qemu-procedures-group.js';
import { agentCallError } from './agent-errors.js';
import { readAgentInterfaces } from './agent-interfaces.js';

/**
 * Bytes per `guest-file-read`/`guest-file-write`: 96 KiB travel as 128 KiB of base64 in one JSON
 * command, far under libvirt's 4 MiB RPC string limit and half of what the agent channel takes in
 * one command here (libvirt 9.0, QEMU 7.2: a 128 KiB write went through, a 192 KiB one, 256 KiB
 * of JSON, stalled the channel until libvirt's timeout).
 */
export const AGENT_MAX_CHUNK_BYTES = 96 * 1024;
/**
 * Output (stdout and stderr together) one `guest-exec-status` may carry back whole when a program
 * was spawned with `capture-output`: 2.5 MiB travel as about 3.4 MiB of base64 in the agent's JSON
 * answer, under libvirt's 4 MiB RPC string limit (libvirt 9.0: a 3.5 MB capture failed with
 * "Unable to encode message payload", and qemu-ga forgot the process with it) and far under
 * qemu-ga's own 16 MB capture cap.
 */
export const AGENT_CAPTURE_BYTES = 2.5 * 1024 * 1024;
/** libvirt's wait for the agent's answer to one command (seconds), unless the options say otherwise. */
export const DEFAULT_AGENT_TIMEOUT_SECONDS = 30;

/** Options of a {@link LibvirtGuestAgent}. */
export interface LibvirtGuestAgentOptions {
  /** libvirt's wait for each answer, in seconds (default {@link DEFAULT_AGENT_TIMEOUT_SECONDS}). */
  readonly timeoutSeconds?: number;
}

/**
 * The QEMU guest agent (`qemu-ga`) of one running domain, reached through libvirt's QEMU program
 * (`QEMU_DOMAIN_AGENT_COMMAND`, what `virsh qemu-agent-command` sends), over the domain's
 * `org.qemu.guest_agent.0` virtio-serial channel: no process is spawned on the host.
 */
export class LibvirtGuestAgent implements GuestAgent {
  readonly maxChunkBytes = AGENT_MAX_CHUNK_BYTES;
  readonly captureOutputBytes = AGENT_CAPTURE_BYTES;
  readonly #qemu: QemuProcedures;
  readonly #dom: DomainHandle;
  readonly #timeout: number;

  constructor(qemu: QemuProcedures, dom: DomainHandle, options: LibvirtGuestAgentOptions = {}) {
    this.#qemu = qemu;
    this.#dom = dom;
    this.#timeout = options.timeoutSeconds ?? DEFAULT_AGENT_TIMEOUT_SECONDS;
  }

  async ping(options?: GuestAgentCallOptions): Promise<void> {
    await this.#execute('guest-ping', undefined, options);
  }

  async spawn(request: GuestSpawnRequest, options?: GuestAgentCallOptions): Promise<number> {
    // Without capture-output, qemu-ga leaves the child's standard streams on /dev/null.
    const ret = await this.#execute(
      'guest-exec',
      {
        path: request.path,
        arg: [...request.args],
        ...(request.env === undefined ? {} : { env: [...request.env] }),
        'capture-output': request.captureOutput === true,
      },
      options,
    );
    return integerField(ret, 'pid', 'guest-exec');
  }

  async processStatus(pid: number, options?: GuestAgentCallOptions): Promise<GuestProcessStatus> {
    const ret = record(await this.#execute('guest-exec-status', { pid }, options), 'guest-exec-status');
    const exited = ret.exited === true;
    const captured = exited && ('out-data' in ret || 'err-data' in ret || 'out-truncated' in ret);
    return {
      exited,
      ...(typeof ret.exitcode === 'number' ? { exitCode: ret.exitcode } : {}),
      ...(typeof ret.signal === 'number' ? { signal: ret.signal } : {}),
      ...(captured
        ? {
            stdout: base64Field(ret, 'out-data'),
            stderr: base64Field(ret, 'err-data'),
            outputTruncated: ret['out-truncated'] === true || ret['err-truncated'] === true,
          }
        : {}),
    };
  }

  async openFile(path: string, mode: 'r' | 'w' | 'a', options?: GuestAgentCallOptions): Promise<number> {
    return integerField(
      { handle: await this.#execute('guest-file-open', { path, mode }, options) },
      'handle',
      'guest-file-open',
    );
  }

  async readFile(handle: number, count: number, options?: GuestAgentCallOptions): Promise<GuestFileChunk> {
    const want = Math.min(count, this.maxChunkBytes);
    const ret = record(
      await this.#execute('guest-file-read', { handle, count: want }, options),
      'guest-file-read',
    );
    return { data: base64Field(ret, 'buf-b64'), eof: ret.eof === true };
  }

  async writeFile(handle: number, data: Uint8Array, options?: GuestAgentCallOptions): Promise<void> {
    if (data.byteLength > this.maxChunkBytes)
      throw new VmkitError(
        'INVALID_ARGUMENT',
        `data: a guest agent write takes at most ${this.maxChunkBytes} bytes (got ${data.byteLength})`,
        { details: { field: 'data' } },
      );
    let rest = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    while (rest.byteLength > 0) {
      const args = { handle, 'buf-b64': rest.toString('base64') };
      const ret = record(await this.#execute('guest-file-write', args, options), 'guest-file-write');
      const written = typeof ret.count === 'number' ? ret.count : 0;
      if (written <= 0)
        throw new VmkitError('PROVIDER', `guest-file-write wrote nothing of ${rest.byteLength} byte(s)`);
      rest = rest.subarray(written);
    }
  }

  async closeFile(handle: number, options?: GuestAgentCallOptions): Promise<void> {
    await this.#execute('guest-file-close', { handle }, options);
  }

  async networkInterfaces(options?: GuestAgentCallOptions): Promise<readonly GuestInterface[]> {
    return readAgentInterfaces(await this.#execute('guest-network-get-interfaces', undefined, options));
  }

  /** Sends one command; its `return` value. */
  async #execute(
    command: string,
    args: Record<string, unknown> | undefined,
    options?: GuestAgentCallOptions,
  ) {
    const json = JSON.stringify(
      args === undefined ? { execute: command } : { execute: command, arguments: args },
    );
    let answer: string | undefined;
    try {
      answer = await this.#qemu.agentCommand(this.#dom, json, this.#timeout, 0, options?.signal);
    } catch (error) {
      throw agentCallError(error, command, this.#dom.name);
    }
    if (answer === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer);
    } catch (error) {
      throw new VmkitError('PROVIDER', `${command}: the guest agent answered no JSON`, { cause: error });
    }
    return (parsed as { return?: unknown }).return;
  }
}

function record(value: unknown, command: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new VmkitError('PROVIDER', `${command}: the guest agent answered no object`);
  return value as Record<string, unknown>;
}

/** The bytes of a base64 field of an agent answer (none when it is absent). */
function base64Field(ret: Record<string, unknown>, field: string): Uint8Array {
  const b64 = ret[field];
  return new Uint8Array(Buffer.from(typeof b64 === 'string' ? b64 : '', 'base64'));
}

function integerField(value: unknown, field: string, command: string): number {
  const n = record(value, command)[field];
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new VmkitError('PROVIDER', `${command}: the guest agent answered no integer ${field}`);
  return n;
}
