import { clientFault, invalidObject } from './sim-fault.js';
import type { SimWorld } from './sim-world.js';
import type { SimArgs } from './soap-envelope.js';
import type { SimTarget, Websession, Websessions } from './websessions.js';

/** Credentials the simulator accepts. */
export interface SimCredentials {
  readonly username: string;
  readonly password: string;
}

/** What a handler is given: the arguments, the world, and reference helpers. */
export class SimCall {
  #session: Websession | undefined;

  constructor(
    readonly operation: string,
    readonly args: SimArgs,
    readonly world: SimWorld,
    readonly websessions: Websessions,
    readonly credentials: SimCredentials,
  ) {}

  /** A string argument. */
  str(name: string): string {
    const v = this.args[name];
    if (typeof v !== 'string')
      throw clientFault(`Validation constraint violation: missing element '${name}'`);
    return v;
  }

  /** An integer argument (already checked against its XML type). */
  int(name: string): number {
    return Number(this.str(name));
  }

  /** A boolean argument. */
  bool(name: string): boolean {
    const v = this.str(name);
    return v === 'true' || v === '1';
  }

  /** A repeated argument. */
  list(name: string): readonly string[] {
    const v = this.args[name];
    return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  }

  /** The websession the request runs in (from `_this` or the first reference argument). */
  get session(): Websession {
    if (!this.#session) throw invalidObject(this.str('_this'));
    return this.#session;
  }

  /** Resolves `_this`, which must speak `iface`. */
  self<T extends SimTarget>(iface: string): T {
    return this.obj<T>('_this', iface);
  }

  /** Resolves a reference argument, which must speak `iface` and belong to the caller's websession. */
  obj<T extends SimTarget>(name: string, iface: string): T {
    return this.target<T>(this.str(name), iface);
  }

  /** Resolves a reference given as a value (an element of a repeated argument). */
  target<T extends SimTarget>(ref: string, iface: string): T {
    const { session, target } = this.websessions.resolve(ref, iface);
    if (this.#session && this.#session !== session) throw invalidObject(ref);
    this.#session = session;
    return target as T;
  }

  /** Like {@link SimCall.obj}, but an empty reference is `undefined`. */
  optional<T extends SimTarget>(name: string, iface: string): T | undefined {
    return this.str(name) === '' ? undefined : this.obj<T>(name, iface);
  }

  /** Binds the call to a websession (logon). */
  bind(session: Websession): void {
    this.#session = session;
  }

  /** The reference of `target` in the caller's websession. */
  ref(target: SimTarget | undefined): string {
    return target ? this.session.refFor(target) : '';
  }
}

/** A handler of one operation: returns the response's value(s). */
export type SimHandler = (call: SimCall) => unknown | Promise<unknown>;
