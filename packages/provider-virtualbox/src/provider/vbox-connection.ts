import { VmkitError } from '@vmkit/core/spi';
import * as vbox from 'virtualbox-soap';
import { readFault, vboxError } from './vbox-errors.js';
import type { ResolvedVirtualBoxProviderOptions } from './virtualbox-provider-options.js';

/** The logged-on API: the IVirtualBox reference and the websession manager it came from. */
export interface VboxApi {
  readonly manager: vbox.IWebsessionManager;
  readonly vbox: vbox.IVirtualBox;
  /** Increases on every logon, so caches of references know they went stale. */
  readonly generation: number;
}

/**
 * One connection to vboxwebsrv per provider: `virtualbox-soap`'s client is made once (it parses
 * the WSDL, about a second), the websession is opened with the credentials and reopened when
 * vboxwebsrv forgets it (idle timeout, restart). Client sessions (ISession) are pooled; `close`
 * logs off, which releases every managed object reference of the websession.
 */
export class VboxConnection {
  readonly #options: ResolvedVirtualBoxProviderOptions;
  #manager: Promise<vbox.IWebsessionManager> | undefined;
  #api: Promise<VboxApi> | undefined;
  #generation = 0;
  #sessions: vbox.ISession[] = [];
  #closed = false;

  constructor(options: ResolvedVirtualBoxProviderOptions) {
    this.#options = options;
  }

  /** The endpoint, for messages. */
  get endpoint(): string {
    return this.#options.url;
  }

  /** The logged-on API (logs on once; again after {@link VboxConnection.invalidate}). */
  api(): Promise<VboxApi> {
    if (this.#closed) return Promise.reject(new VmkitError('PROVIDER', 'the VirtualBox provider is closed'));
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
    }
  }

  /**
   * Runs `fn` with the API, mapping errors. When `idempotent` and vboxwebsrv no longer knows the
   * websession, logs on again and runs `fn` once more.
   */
  async run<T>(what: string, fn: (api: VboxApi) => Promise<T>, idempotent = false): Promise<T> {
    const api = await this.api();
    try {
      return await fn(api);
    } catch (error) {
      if (
        readFault(error)?.invalidObject ||
        readFault(VmkitError.is(error) ? error.cause : undefined)?.invalidObject
      ) {
        this.invalidate(api.generation);
        if (idempotent) {
          const again = await this.api();
          try {
            return await fn(again);
          } catch (second) {
            throw vboxError(second, what, this.endpoint);
          }
        }
      }
      throw vboxError(error, what, this.endpoint);
    }
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
  async close(): Promise<void> {
    this.#closed = true;
    const pending = this.#api;
    this.#api = undefined;
    this.#sessions = [];
    const api = await pending?.catch(() => undefined);
    if (api) await api.manager.logoff(api.vbox).catch(() => {});
  }
}
