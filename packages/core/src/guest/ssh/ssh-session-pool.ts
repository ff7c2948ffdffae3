import type { SshSession } from './ssh-session.js';

/** How {@link SshSessionPool} keeps connections. */
export interface SshSessionPoolOptions {
  /** How long a connection no one uses stays open for the next call (ms). */
  readonly idleMs: number;
  /** Commands one connection carries at once; more open another connection (sshd's `MaxSessions` is 10). */
  readonly maxUsers: number;
}

/** A connection lent by {@link SshSessionPool}. */
export interface LentSession {
  /** The connection. */
  readonly session: SshSession;
  /** Whether it was open before this loan (a command on it may find it gone). */
  readonly reused: boolean;
  /** Gives it back; idempotent. */
  release(): void;
}

interface Entry {
  readonly key: string;
  readonly session: SshSession;
  users: number;
  gone: boolean;
  idle?: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Keeps SSH connections to nodes open between calls, as OpenSSH's `ControlPersist` does: under
 * emulation a handshake costs the guest most of a second, a command on an open connection a
 * fraction of that. A connection is lent to at most {@link SshSessionPoolOptions.maxUsers} callers
 * at once, closed after {@link SshSessionPoolOptions.idleMs} unused, and forgotten as soon as it
 * ends (node stopped or destroyed). Keys name the node, its endpoint and the login, so a node
 * remade on the same port, or another login, never gets a connection made for another.
 */
export class SshSessionPool {
  readonly #options: SshSessionPoolOptions;
  readonly #entries = new Map<string, Entry[]>();
  #closed = false;

  constructor(options: SshSessionPoolOptions) {
    this.#options = options;
  }

  /** A connection for `key`: an open one with room, else one `open` makes (pooled unless the pool is closed). */
  async acquire(key: string, open: () => Promise<SshSession>): Promise<LentSession> {
    const free = this.#entries.get(key)?.find((e) => !e.gone && e.users < this.#options.maxUsers);
    if (free) return this.#lend(free, true);
    const session = await open();
    if (this.#closed) {
      return {
        session,
        reused: false,
        release: () => session.close(),
      };
    }
    const entry: Entry = { key, session, users: 0, gone: false };
    this.#entries.set(key, [...(this.#entries.get(key) ?? []), entry]);
    void session.closed.then(() => this.#forget(entry));
    return this.#lend(entry, false);
  }

  /** Closes the connection of a loan that found it broken, so no one else gets it. */
  discard(lent: LentSession): void {
    lent.session.close();
    for (const entries of this.#entries.values())
      for (const entry of entries) if (entry.session === lent.session) this.#forget(entry);
  }

  /** Connections open now (for tests). */
  get size(): number {
    let n = 0;
    for (const entries of this.#entries.values()) n += entries.filter((e) => !e.gone).length;
    return n;
  }

  /** Closes every idle connection now and the others when given back; later loans are not kept. */
  close(): void {
    this.#closed = true;
    for (const entries of this.#entries.values())
      for (const entry of entries) if (entry.users === 0) this.#end(entry);
  }

  #lend(entry: Entry, reused: boolean): LentSession {
    entry.users++;
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = undefined;
    let given = false;
    return {
      session: entry.session,
      reused,
      release: () => {
        if (given) return;
        given = true;
        entry.users--;
        if (entry.users > 0 || entry.gone) return;
        if (this.#closed) return this.#end(entry);
        entry.idle = setTimeout(() => this.#end(entry), this.#options.idleMs);
        entry.idle.unref?.();
      },
    };
  }

  #end(entry: Entry): void {
    this.#forget(entry);
    entry.session.close();
  }

  #forget(entry: Entry): void {
    entry.gone = true;
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = undefined;
    const rest = (this.#entries.get(entry.key) ?? []).filter((e) => e !== entry);
    if (rest.length > 0) this.#entries.set(entry.key, rest);
    else this.#entries.delete(entry.key);
  }
}
