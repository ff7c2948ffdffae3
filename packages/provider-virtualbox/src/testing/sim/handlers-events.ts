import type { SimCall, SimHandler } from './sim-call.js';
import { SimEventListener, type SimEventSource, type SimRuntimeErrorEvent } from './sim-events.js';
import { ResultCode, runtime, violation } from './sim-fault.js';
import type { SimSession } from './sim-model.js';

function source(c: SimCall): SimEventSource {
  const s = c.self<SimEventSource>('IEventSource');
  if (!s.alive) throw runtime(ResultCode.E_ACCESSDENIED, 'The object is not ready (the VM process ended)');
  return s;
}

function registered(c: SimCall, s: SimEventSource): SimEventListener {
  const l = c.obj<SimEventListener>('listener', 'IEventListener');
  if (!s.listeners.has(l))
    throw runtime(ResultCode.VBOX_E_OBJECT_NOT_FOUND, 'Listener was never registered with this source');
  return l;
}

function runtimeError(c: SimCall): SimRuntimeErrorEvent {
  return c.self<SimRuntimeErrorEvent>('IRuntimeErrorEvent');
}

/**
 * The console's event source and passive listeners, as vboxwebsrv serves them (the web service
 * has no active listeners: `registerListener` with `active` true is refused); runtime error events.
 */
export const eventHandlers: Record<string, SimHandler> = {
  IConsole_getEventSource(c) {
    const session = c.self<SimSession['console']>('IConsole').session;
    const m = session.machine;
    if (session.state !== 'Locked' || !m)
      throw runtime(ResultCode.VBOX_E_INVALID_SESSION_STATE, 'The session is not locked to a machine');
    if (!m.consoleEvents)
      throw runtime(ResultCode.VBOX_E_INVALID_VM_STATE, `The machine is not running (${m.state})`);
    return c.ref(m.consoleEvents);
  },
  IEventSource_createListener(c) {
    c.self<SimEventSource>('IEventSource');
    return c.ref(new SimEventListener());
  },
  IEventSource_registerListener(c) {
    const s = source(c);
    const l = c.obj<SimEventListener>('listener', 'IEventListener');
    if (c.bool('active'))
      throw violation(ResultCode.E_INVALIDARG, 'The web service supports passive listeners only');
    if (l.source) throw violation(ResultCode.E_INVALIDARG, 'The listener is registered already');
    l.source = s;
    l.interesting = new Set(c.list('interesting'));
    s.listeners.add(l);
  },
  IEventSource_unregisterListener(c) {
    const s = source(c);
    registered(c, s).detach();
    s.listeners.delete(c.obj<SimEventListener>('listener', 'IEventListener'));
  },
  async IEventSource_getEvent(c) {
    const s = source(c);
    const l = registered(c, s);
    return c.ref(await l.next(c.int('timeout')));
  },
  IEventSource_eventProcessed(c) {
    registered(c, source(c));
    c.obj<SimRuntimeErrorEvent>('event', 'IEvent');
  },
  IEvent_getType: (c) => c.self<SimRuntimeErrorEvent>('IEvent').type,
  IEvent_getWaitable: () => false,
  IRuntimeErrorEvent_getFatal: (c) => runtimeError(c).fatal,
  IRuntimeErrorEvent_getId: (c) => runtimeError(c).id,
  IRuntimeErrorEvent_getMessage: (c) => runtimeError(c).message,
};
