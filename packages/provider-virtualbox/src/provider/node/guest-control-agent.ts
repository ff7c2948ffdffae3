import {
  type GuestAgent,
  type GuestAgentAccess,
  type GuestAgentCallOptions,
  type GuestFileChunk,
  type GuestInterface,
  type GuestProcessStatus,
  type GuestSpawnRequest,
  invalidArgument,
  raceAbort,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import { guestProperties } from '../../soap/calls.js';
import type { VboxApi } from '../../soap/connection.js';
import { hasResult, readFault, VBOX_RESULT } from '../../soap/errors.js';
import type { VboxContext } from '../virtualbox-context.js';
import { GUEST_NET_PATTERN, guestInterfaces } from './guest-interfaces.js';
import { findNode } from './node-ops.js';

/** How long a guest session or process may take to start before the agent counts as not answering. */
const START_MS = 30_000;
/** How long one file read or write may take in the guest. */
const IO_MS = 30_000;
/** The chunk size of file reads and writes (each a SOAP call carrying it base64-encoded). */
const CHUNK = 64 * 1024;
/** Process statuses that are final (`ProcessStatus`), with what they say. */
const ENDED = new Set([
  'TerminatedNormally',
  'TerminatedSignal',
  'TerminatedAbnormally',
  'TimedOutKilled',
  'TimedOutAbnormally',
  'Down',
  'Error',
]);

/** A node's stored login, as core hands it over. */
type LoginCredentials = NonNullable<GuestAgentAccess['credentials']>;

/** An open guest session: the shared lock that reaches the console, and the session. */
interface Opened {
  readonly generation: number;
  readonly lock: vbox.ISession;
  readonly session: vbox.IGuestSession;
}

/**
 * The login Guest Control needs: the node's stored login when it has a user and a password, else
 * the provider's `guestLogin`; `UNSUPPORTED` (said) when neither.
 */
export function guestControlLogin(
  id: string,
  credentials: LoginCredentials | undefined,
  fallback?: LoginCredentials,
): LoginCredentials {
  if (credentials?.user && credentials.password !== undefined) return credentials;
  if (fallback) return fallback;
  throw new VmkitError(
    'UNSUPPORTED',
    `VirtualBox Guest Control in node ${id} logs in to the guest as a user with a password: the node's stored login (credentials) has ${credentials?.user ? `no password for user '${credentials.user}'` : 'none'}; give the image a login with a password (or the provider a guestLogin), or use SSH`,
    { details: { field: 'credentials.password', node: id } },
  );
}

/**
 * The VirtualBox guest agent: Guest Control of the Guest Additions, through vboxwebsrv. A guest
 * session (`IGuest.createSession`) is opened on first use as the node's stored login, under a
 * shared lock of the machine (which reaches its console), and kept until {@link close}; processes
 * are `IGuestSession.processCreate` (argv[0] first, stdin closed at once, output not kept), files
 * `IGuestSession.fileOpen` with `IFile.read`/`write` in base64. Interfaces come from the guest
 * properties Guest Additions set. Processes run as the session's user (root only when the stored
 * login is root).
 */
export class VboxGuestAgent implements GuestAgent {
  readonly maxChunkBytes = CHUNK;
  readonly #ctx: VboxContext;
  readonly #id: string;
  readonly #credentials: LoginCredentials | undefined;
  #opening: Promise<Opened> | undefined;
  #closed = false;
  readonly #processes = new Map<number, vbox.IProcess>();
  /** Processes reported ended: forgotten (VirtualBox keeps them listed until the session closes). */
  readonly #forgotten = new Set<number>();
  readonly #files = new Map<number, vbox.IFile>();
  #nextHandle = 1;

  constructor(ctx: VboxContext, id: string, access: GuestAgentAccess) {
    this.#ctx = ctx;
    this.#id = id;
    this.#credentials = access.credentials;
  }

  /** Runs `fn` in the open guest session (opening it first). */
  #call<T>(
    what: string,
    options: GuestAgentCallOptions | undefined,
    fn: (s: Opened) => Promise<T>,
  ): Promise<T> {
    const signal = options?.signal;
    const label = `${what} in node ${this.#id}`;
    throwIfAborted(signal, label);
    if (this.#closed)
      return Promise.reject(new VmkitError('CONFLICT', `${label}: the guest agent session is closed`));
    return raceAbort(
      this.#ctx.conn.run(label, async (api) => fn(await this.#open(api, signal))),
      signal,
      label,
    );
  }

  #open(api: VboxApi, signal: AbortSignal | undefined): Promise<Opened> {
    const login = guestControlLogin(this.#id, this.#credentials, this.#ctx.options.guestLogin);
    const current = this.#opening;
    if (current) {
      return current.then((o) => {
        if (o.generation === api.generation) return o;
        // The websession was lost: every reference of the old one is gone.
        this.#opening = undefined;
        this.#processes.clear();
        this.#files.clear();
        return this.#open(api, signal);
      });
    }
    const opening = this.#startSession(api, login, signal);
    this.#opening = opening;
    opening.catch(() => {
      if (this.#opening === opening) this.#opening = undefined;
    });
    return opening;
  }

  async #startSession(api: VboxApi, login: LoginCredentials, signal?: AbortSignal): Promise<Opened> {
    const { machine } = await findNode(this.#ctx, api, this.#id);
    const state = String(await machine.getState());
    if (state !== 'Running')
      throw new VmkitError('CONFLICT', `node ${this.#id} is not running (${state}): no guest to control`);
    const lock = await this.#ctx.conn.borrowSession(api);
    await machine.lockMachine(lock, 'Shared' as vbox.LockType);
    let session: vbox.IGuestSession | undefined;
    try {
      const guest = await (await lock.getConsole()).getGuest();
      const level = String(await guest.getAdditionsRunLevel());
      if (level === 'None') throw this.#notReady(`Guest Additions are not running (run level ${level})`);
      session = await guest.createSession(login.user, login.password ?? '', '', 'vmkit');
      let result: string;
      try {
        result = String(await session.waitForArray(['Start' as vbox.GuestSessionWaitForFlag], START_MS));
      } catch (error) {
        const text = readFault(error)?.text ?? (error as Error).message;
        throw new VmkitError(
          'PROVIDER',
          `Guest Control in node ${this.#id} could not log in as user '${login.user}' (wrong user or password?): ${text}`,
          { cause: error, details: { field: 'credentials', node: this.#id } },
        );
      }
      if (result !== 'Start')
        throw this.#notReady(
          `the Guest Additions did not start a guest session in ${START_MS / 1000} s (${result})`,
        );
      throwIfAborted(signal, `opening a guest session in node ${this.#id}`);
      return { generation: api.generation, lock, session };
    } catch (error) {
      await session?.close().catch(() => {});
      await lock.unlockMachine().then(
        () => this.#ctx.conn.returnSession(api, lock),
        () => {},
      );
      throw error;
    }
  }

  #notReady(why: string): VmkitError {
    return new VmkitError('UNSUPPORTED', `no guest agent answers in node ${this.#id}: ${why}`, {
      retryable: true,
      details: { node: this.#id, reason: 'agent-not-ready' },
    });
  }

  async ping(options?: GuestAgentCallOptions): Promise<void> {
    await this.#call('pinging Guest Control', options, async ({ session }) => {
      const status = String(await session.getStatus());
      if (status !== 'Started') throw this.#notReady(`the guest session is ${status}`);
    });
  }

  async spawn(request: GuestSpawnRequest, options?: GuestAgentCallOptions): Promise<number> {
    if (!request.path.startsWith('/')) throw invalidArgument('path', 'must be an absolute guest path');
    return this.#call(`starting ${request.path}`, options, async ({ session }) => {
      const process = await session.processCreate(
        request.path,
        [request.path, ...request.args],
        [...(request.env ?? [])],
        [],
        0,
      );
      const started = String(await process.waitForArray(['Start' as vbox.ProcessWaitForFlag], START_MS));
      if (started === 'Timeout') {
        await process.terminate().catch(() => {});
        throw this.#notReady(`${request.path} did not start in ${START_MS / 1000} s`);
      }
      const pid = Number(await process.getPID());
      this.#processes.set(pid, process);
      this.#forgotten.delete(pid);
      // Its stdin is a pipe Guest Control keeps open: closed at once, as /dev/null would be.
      await process.writeArray(0, ['EndOfFile' as vbox.ProcessInputFlag], '', IO_MS).catch(() => 0);
      return pid;
    });
  }

  async processStatus(pid: number, options?: GuestAgentCallOptions): Promise<GuestProcessStatus> {
    return this.#call(`reading the status of process ${pid}`, options, async ({ session }) => {
      if (this.#forgotten.has(pid))
        throw new VmkitError(
          'NOT_FOUND',
          `process ${pid} in node ${this.#id} ended and was reported already`,
        );
      const process = this.#processes.get(pid) ?? (await session.processGet(pid));
      const status = String(await process.getStatus());
      if (!ENDED.has(status)) return { exited: false };
      this.#processes.delete(pid);
      this.#forgotten.add(pid);
      const code = Number(await process.getExitCode());
      if (status === 'TerminatedNormally') return { exited: true, exitCode: code };
      // VirtualBox gives the signal's number as the exit code of a process a signal ended.
      if (status === 'TerminatedSignal') return { exited: true, signal: code };
      return { exited: true };
    });
  }

  async openFile(path: string, mode: 'r' | 'w' | 'a', options?: GuestAgentCallOptions): Promise<number> {
    if (!path.startsWith('/')) throw invalidArgument('path', 'must be an absolute guest path');
    return this.#call(`opening ${path}`, options, async ({ session }) => {
      const access = (mode === 'r' ? 'ReadOnly' : 'WriteOnly') as vbox.FileAccessMode;
      const action = (
        mode === 'r' ? 'OpenExisting' : mode === 'w' ? 'CreateOrReplace' : 'OpenOrCreate'
      ) as vbox.FileOpenAction;
      const file = await session.fileOpen(path, access, action, mode === 'r' ? 0 : 0o644);
      // VirtualBox does not implement its append access modes: the offset is moved to the end.
      if (mode === 'a') await file.seek(0, 'End' as vbox.FileSeekOrigin);
      const handle = this.#nextHandle++;
      this.#files.set(handle, file);
      return handle;
    });
  }

  #file(handle: number): vbox.IFile {
    const file = this.#files.get(handle);
    if (!file)
      throw new VmkitError('NOT_FOUND', `no open guest file with handle ${handle} in node ${this.#id}`);
    return file;
  }

  async readFile(handle: number, count: number, options?: GuestAgentCallOptions): Promise<GuestFileChunk> {
    if (!Number.isInteger(count) || count < 1 || count > CHUNK)
      throw invalidArgument('count', `must be an integer from 1 to ${CHUNK}`);
    const file = this.#file(handle);
    return this.#call('reading a guest file', options, async () => {
      const data = new Uint8Array(Buffer.from(String((await file.read(count, IO_MS)) ?? ''), 'base64'));
      // A regular file reads short only at its end.
      return { data, eof: data.length < count };
    });
  }

  async writeFile(handle: number, data: Uint8Array, options?: GuestAgentCallOptions): Promise<void> {
    if (data.length > CHUNK) throw invalidArgument('data', `must be at most ${CHUNK} bytes`);
    const file = this.#file(handle);
    await this.#call('writing a guest file', options, async () => {
      let done = 0;
      while (done < data.length) {
        const written = Number(await file.write(Buffer.from(data.subarray(done)).toString('base64'), IO_MS));
        if (!(written > 0))
          throw new VmkitError('PROVIDER', `the guest wrote nothing of ${data.length - done} bytes`);
        done += written;
      }
    });
  }

  async closeFile(handle: number, options?: GuestAgentCallOptions): Promise<void> {
    const file = this.#file(handle);
    this.#files.delete(handle);
    await this.#call('closing a guest file', options, async () => {
      await file.close();
    });
  }

  async networkInterfaces(options?: GuestAgentCallOptions): Promise<readonly GuestInterface[]> {
    const what = `reading the guest network of node ${this.#id}`;
    throwIfAborted(options?.signal, what);
    return raceAbort(
      this.#ctx.conn.run(
        what,
        async (api) => {
          const { machine } = await findNode(this.#ctx, api, this.#id);
          const props = await guestProperties(machine, GUEST_NET_PATTERN);
          if (props.size === 0) throw this.#notReady('Guest Additions report no network (yet)');
          return guestInterfaces(props);
        },
        true,
      ),
      options?.signal,
      what,
    );
  }

  /** Closes the guest session (its processes end) and lets go of the machine; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const opened = await this.#opening?.catch(() => undefined);
    this.#opening = undefined;
    this.#processes.clear();
    this.#files.clear();
    if (!opened) return;
    await opened.session.close().catch(() => {});
    await opened.lock.unlockMachine().catch((error: unknown) => {
      // A shared lock is let go by VirtualBox when the machine powers off.
      if (!hasResult(error, VBOX_RESULT.INVALID_SESSION_STATE)) return;
    });
  }
}
