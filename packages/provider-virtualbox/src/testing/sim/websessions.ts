import { randomBytes } from 'node:crypto';
import { invalidObject } from './sim-fault.js';

/** Anything a managed object reference can point at. */
export interface SimTarget {
  /** The interface the reference speaks (`IMachine`, `ISession`, ...). */
  readonly iface: string;
  /** Interfaces it inherits from (a reference may be used with their operations too). */
  readonly speaks?: readonly string[];
}

/** One logged-on client: its managed object references and when it was last used. */
export class Websession {
  readonly id = randomBytes(8).toString('hex');
  readonly #byId = new Map<string, SimTarget>();
  readonly #byTarget = new Map<SimTarget, string>();
  #next = 1n;
  lastUsed = Date.now();

  /** The reference for `target` in this websession; the same object always gets the same one. */
  refFor(target: SimTarget): string {
    const known = this.#byTarget.get(target);
    if (known) return known;
    const ref = `${this.id}-${(this.#next++).toString(16).padStart(16, '0')}`;
    this.#byId.set(ref, target);
    this.#byTarget.set(target, ref);
    return ref;
  }

  /** The target of `ref`, if this websession knows it. */
  lookup(ref: string): SimTarget | undefined {
    return this.#byId.get(ref);
  }

  /** Forgets one reference. */
  release(ref: string): boolean {
    const target = this.#byId.get(ref);
    if (!target) return false;
    this.#byId.delete(ref);
    this.#byTarget.delete(target);
    return true;
  }

  /** How many references are alive. */
  get size(): number {
    return this.#byId.size;
  }
}

/**
 * Websessions and their managed object references, shaped like vboxwebsrv's: a reference is
 * `<16 hex websession id>-<16 hex object id>`; a reference of an unknown, logged-off or expired
 * websession, or one the websession never handed out, is an InvalidObjectFault.
 */
export class Websessions {
  readonly #sessions = new Map<string, Websession>();

  constructor(readonly idleTimeoutMs: number) {}

  /** Opens a websession. */
  open(): Websession {
    const session = new Websession();
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The websession of a reference (touching it), or an InvalidObjectFault. */
  sessionOf(ref: string): Websession {
    this.expireIdle();
    const session = /^[0-9a-f]{16}-[0-9a-f]{16}$/.test(ref)
      ? this.#sessions.get(ref.slice(0, 16))
      : undefined;
    if (!session) throw invalidObject(ref);
    session.lastUsed = Date.now();
    return session;
  }

  /** Resolves a reference to its target, checking the interface it must speak. */
  resolve(ref: string, iface?: string): { session: Websession; target: SimTarget } {
    const session = this.sessionOf(ref);
    const target = session.lookup(ref);
    if (!target || (iface !== undefined && target.iface !== iface && !target.speaks?.includes(iface)))
      throw invalidObject(ref);
    return { session, target };
  }

  /** Closes a websession and everything it references. */
  close(id: string): void {
    this.#sessions.delete(id);
  }

  /** Closes websessions idle for longer than the timeout. */
  expireIdle(now = Date.now()): void {
    for (const [id, s] of this.#sessions)
      if (now - s.lastUsed > this.idleTimeoutMs) this.#sessions.delete(id);
  }

  /** Closes every websession (a restarted vboxwebsrv knows none). */
  clear(): void {
    this.#sessions.clear();
  }

  /** Open websessions. */
  get count(): number {
    return this.#sessions.size;
  }

  /** Live references over all websessions. */
  get references(): number {
    let n = 0;
    for (const s of this.#sessions.values()) n += s.size;
    return n;
  }
}
