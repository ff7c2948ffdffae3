import type { DomainHandle } from './handles.js';

/** Lifecycle event kinds (`virDomainEventType`). */
export const DomainEventType = Object.freeze({
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  SUSPENDED: 3,
  RESUMED: 4,
  STOPPED: 5,
  SHUTDOWN: 6,
  PMSUSPENDED: 7,
  CRASHED: 8,
} as const);

/** Event ids for `CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY` (`virDomainEventID`). */
export const DomainEventId = Object.freeze({ LIFECYCLE: 0 } as const);

/** A domain lifecycle event. */
export interface DomainLifecycleEvent {
  /** The domain. */
  readonly domain: DomainHandle;
  /** What happened ({@link DomainEventType}). */
  readonly event: number;
  /** Why (per event kind, e.g. 0 = booted for STARTED). */
  readonly detail: number;
}

/** Receives domain lifecycle events. */
export type DomainLifecycleListener = (event: DomainLifecycleEvent) => void;
