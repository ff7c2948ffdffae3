import { closedError, Lifecycle, retryRetryable, throwIfAborted, VmkitError } from '@vmkit/core/spi';
import * as vbox from 'virtualbox-soap';
import type { ResolvedVirtualBoxProviderOptions } from '../provider/virtualbox-provider-options.js';
import { isSessionLost, readFault, vboxError } from './errors.js';

/** The logged-on API: the IVirtualBox reference and the websession manager it came from. */
export interface VboxApi {
  readonly manager: vbox.IWebsessionManager;
  readonly vbox: vbox.IVirtualBox;
  /** Increases on every logon, so caches of references know they went stale. */
  readonly generation: number;
}

/** The first pause between tries to log on again, in ms (doubled each try, up to {@link MAX_PAUSE_MS}). */
const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 2_000;

/**
 * One connection to vboxwebsrv per provider: `virtualbox-soap`'s client is made once (it parses
 * the WSDL, about a second), the websession is opened with the credentials and reopened when
 * vboxwebsrv forgets it (idle timeout, restart). After a lost connection or websession, logging
 * on again is tried with growing pauses for up to `reconnectTimeoutMs`, within the caller's
 * signal. Client sessions (ISession) are pooled; `close` logs off, which releases every managed
 * object reference of the websession.
 */
export class VboxConnection {
  readonly #options: ResolvedVirtualBoxProviderOptions;
  #manager: Promise<vbox.IWebsessionManager> | undefined;
  #api: Promise<VboxApi> | undefined;
  #generation = 0;
  #sessions: vbox.ISession[] = [];
  readonly #life: Lifecycle;
  /** Set when the websession was lost: the next logon waits for vboxwebsrv to come back. */
  #lost = false;

  constructor(options: ResolvedVirtualBoxProviderOptions) {
    this.#options = options;
    this.#life = new Lifecycle(`the VirtualBox connection to ${options.url}`, {
      close: () => this.#logoff(),
    });
  }

  /** The endpoint, for messages. */
  get endpoint(): string {
    return this.#options.url;
  }

  /**
   * The logged-on API (logs on once; again after {@link VboxConnection.invalidate}). After a lost
   * websession, logging on is tried again with growing pauses (see {@link VboxConnection.reconnect}).
   */
  api(signal?: AbortSignal): Promise<VboxApi> {
    return this.#lost ? this.reconnect(signal) : this.#logonOnce();
  }

  /**
   * Logs on again after vboxwebsrv went away: tries with growing pauses (100 ms doubling to 2 s)
   * while the failure is a lost connection or websession, for up to `reconnectTimeoutMs`, within
   * `signal`; the last failure is thrown (`retryable`).
   */
  async reconnect(signal?: AbortSignal): Promise<VboxApi> {
    const what = `reconnecting to vboxwebsrv at ${this.endpoint}`;
    const api = await retryRetryable(
      () => {
        throwIfAborted(signal, what);
        return this.#logonOnce();
      },
      {
        attempts: Number.POSITIVE_INFINITY,
        baseDelayMs: FIRST_PAUSE_MS,
        maxDelayMs: MAX_PAUSE_MS,
        budgetMs: this.#options.reconnectTimeoutMs,
        retryIf: isSessionLost,
        ...(signal ? { signal } : {}),
      },
    ).catch((error: unknown) => {
      // A signal that fired after a lost try ends the wait as an abort, not as that try's failure.
      if (isSessionLost(error)) throwIfAborted(signal, what);
      throw error;
    });
    this.#lost = false;
    return api;
  }

  #logonOnce(): Promise<VboxApi> {
    if (this.#life.closed)
      return Promise.reject(closedError(`the VirtualBox connection to ${this.endpoint}`));
    if (!this.#api) {
      const attempt = this.#logon();
      this.#api = attempt;
      attempt.catch(() => {
        if (this.#api === attempt) this.#api = undefined;
      });
    }
    return this.#api;
  }

  async #logon(): Promise<VboxApi> {
    const { url, username } = this.#options;
    if (!this.#manager) {
      const made = vbox.connect(url);
      this.#manager = made;
      made.catch(() => {
        if (this.#manager === made) this.#manager = undefined;
      });
    }
    let manager: vbox.IWebsessionManager;
    try {
      manager = await this.#manager;
    } catch (error) {
      throw vboxError(error, `connecting to vboxwebsrv`, url);
    }
    try {
      const ref = await manager.logon(username, this.#options.password);
      this.#sessions = [];
      return { manager, vbox: ref, generation: ++this.#generation };
    } catch (error) {
      const fault = readFault(error);
      if (fault && fault.resultCode === undefined && !fault.invalidObject)
        throw new VmkitError('PROVIDER', `logon to vboxwebsrv at ${url} as user '${username}' was refused`, {
          cause: new Error(fault.text),
          details: { url, username },
        });
      throw vboxError(error, `logon to vboxwebsrv at ${url} as user '${username}'`, url);
    }
  }

  /** Forgets the websession after vboxwebsrv lost it: the next {@link VboxConnection.api} logs on again. */
  invalidate(generation: number): void {
    if (generation === this.#generation) {
      this.#api = undefined;
      this.#sessions = [];
      this.#lost = true;
    }
  }

  /**
   * Runs `fn` with the API, mapping errors. When the connection or the websession is lost
   * (vboxwebsrv restarted), the websession is forgotten; when `idempotent`, vmkit logs on again
   * (waiting for vboxwebsrv, see {@link VboxConnection.reconnect}) and runs `fn` again, at most
   * three times in all. Otherwise the error is thrown `retryable`: the caller decides, knowing
   * what `fn` may have done.
   */
  async run<T>(
    what: string,
    fn: (api: VboxApi) => Promise<T>,
    idempotent = false,
    signal?: AbortSignal,
  ): Promise<T> {
    // The failure of a try that lost the connection or the websession (the one tried again).
    let lost: unknown;
    return retryRetryable(
      async () => {
        lost = undefined;
        let api: VboxApi;
        try {
          api = await this.api(signal);
        } catch (error) {
          throw vboxError(error, what, this.endpoint);
        }
        try {
          return await fn(api);
        } catch (error) {
          if (!isSessionLost(error)) throw vboxError(error, what, this.endpoint);
          this.invalidate(api.generation);
          lost = vboxError(error, what, this.endpoint);
          throw lost;
        }
      },
      {
        attempts: 3,
        baseDelayMs: 0,
        retryIf: (error) => idempotent && error === lost,
        ...(signal ? { signal } : {}),
      },
    );
  }

  /** An unlocked client session from the pool (made when none is idle). */
  async borrowSession(api: VboxApi): Promise<vbox.ISession> {
    const pooled = api.generation === this.#generation ? this.#sessions.pop() : undefined;
    return pooled ?? (await api.manager.getSessionObject(api.vbox));
  }

  /** Returns an unlocked session to the pool. */
  returnSession(api: VboxApi, session: vbox.ISession): void {
    if (api.generation === this.#generation && this.#sessions.length < 16) this.#sessions.push(session);
  }

  /** Logs off (releasing every reference of the websession); idempotent. */
  close(): Promise<void> {
    return this.#life.close();
  }

  async #logoff(): Promise<void> {
    const pending = this.#lost ? undefined : this.#api;
    this.#api = undefined;
    this.#sessions = [];
    const api = await pending?.catch(() => undefined);
    if (api) await api.manager.logoff(api.vbox).catch(() => {});
  }
}
