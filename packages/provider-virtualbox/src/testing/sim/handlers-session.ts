import { machine } from './handlers-machine.js';
import { snapshotHandlers } from './handlers-snapshots.js';
import type { SimCall, SimHandler } from './sim-call.js';
import { ResultCode, runtime, violation } from './sim-fault.js';
import {
  copySettings,
  type KeyboardView,
  type SimMachine,
  SimProgress,
  type SimSession,
} from './sim-model.js';
import { assertPoweredOff } from './sim-world.js';

function session(c: SimCall, name = '_this'): SimSession {
  return c.obj<SimSession>(name, 'ISession');
}

function lockedMachine(s: SimSession): SimMachine {
  if (s.state !== 'Locked' || !s.machine)
    throw runtime(ResultCode.VBOX_E_INVALID_SESSION_STATE, 'The session is not locked to a machine');
  return s.machine;
}

function release(s: SimSession): void {
  const m = s.machine;
  if (m) {
    if (m.writeLock === s) {
      m.writeLock = undefined;
      m.draft = undefined;
    }
    m.shared.delete(s);
  }
  s.state = 'Unlocked';
  s.type = 'Null';
  s.machine = undefined;
}

function running(m: SimMachine, action: string): void {
  if (m.state !== 'Running' && m.state !== 'Paused')
    throw runtime(
      ResultCode.VBOX_E_INVALID_VM_STATE,
      `Cannot ${action}: the machine is not running (${m.state})`,
      true,
    );
}

/** Locks, sessions, launching, the console, snapshots, clones and unregistering. */
export const sessionHandlers: Record<string, SimHandler> = {
  IMachine_lockMachine(c) {
    const view = machine(c);
    const s = session(c, 'session');
    const m = view.machine;
    if (view.kind !== 'plain' || !m.registered)
      throw violation(ResultCode.VBOX_E_INVALID_OBJECT_STATE, `Machine '${m.name}' is not registered`);
    if (s.state !== 'Unlocked')
      throw violation(ResultCode.VBOX_E_INVALID_OBJECT_STATE, 'The given session is busy (already locked)');
    const type = c.str('lockType');
    if (type === 'Shared' && m.writeLock !== undefined) {
      Object.assign(s, { state: 'Locked', type: 'Shared', machine: m });
      m.shared.add(s);
      if (!m.draft) m.draft = copySettings(m.settings);
      return;
    }
    if (type === 'VM') throw violation(ResultCode.E_INVALIDARG, 'LockType VM is for VM processes only');
    if (m.writeLock !== undefined || m.shared.size > 0)
      throw runtime(
        ResultCode.VBOX_E_INVALID_OBJECT_STATE,
        `The machine '${m.name}' is already locked by a session (or being locked or unlocked)`,
      );
    Object.assign(s, { state: 'Locked', type: 'WriteLock', machine: m });
    m.writeLock = s;
    m.draft = copySettings(m.settings);
  },
  IMachine_launchVMProcess(c) {
    const view = machine(c);
    const s = session(c, 'session');
    const m = view.machine;
    if (view.kind !== 'plain' || !m.registered)
      throw violation(ResultCode.VBOX_E_INVALID_OBJECT_STATE, `Machine '${m.name}' is not registered`);
    if (s.state !== 'Unlocked')
      throw violation(ResultCode.VBOX_E_INVALID_OBJECT_STATE, 'The given session is busy (already locked)');
    if (!['headless', 'gui', 'sdl', 'separate', ''].includes(c.str('name')))
      throw violation(ResultCode.E_INVALIDARG, `Invalid frontend name: '${c.str('name')}'`);
    if (m.locked)
      throw runtime(
        ResultCode.VBOX_E_INVALID_OBJECT_STATE,
        `The machine '${m.name}' is already locked by a session`,
      );
    assertPoweredOff(view);
    // A guest with nothing to boot would sit at "no bootable medium": refused, to catch such bugs.
    const bootable = m.settings.attachments.some(
      (a) =>
        a.medium && (a.type === 'HardDisk' || (a.type === 'DVD' && m.settings.bootOrder.includes('DVD'))),
    );
    if (!bootable)
      throw violation(
        ResultCode.VBOX_E_INVALID_VM_STATE,
        `Machine '${m.name}' has no hard disk or DVD to boot`,
      );
    Object.assign(s, { state: 'Locked', type: 'Remote', machine: m });
    m.shared.add(s);
    const progress = new SimProgress(`Starting ${m.name}`);
    c.world.powerOn(m, progress);
    return c.ref(progress);
  },
  ISession_getState: (c) => session(c).state,
  ISession_getType: (c) => session(c).type,
  ISession_getMachine(c) {
    const s = session(c);
    return c.ref(lockedMachine(s).session);
  },
  ISession_getConsole(c) {
    const s = session(c);
    lockedMachine(s);
    return c.ref(s.console);
  },
  ISession_unlockMachine(c) {
    const s = session(c);
    lockedMachine(s);
    release(s);
  },
  IConsole_getMachine(c) {
    const con = c.self<SimSession['console']>('IConsole');
    return c.ref(lockedMachine(con.session).session);
  },
  IConsole_getKeyboard(c) {
    const con = c.self<SimSession['console']>('IConsole');
    lockedMachine(con.session);
    return c.ref(con.keyboard);
  },
  IKeyboard_putScancodes(c) {
    const keyboard = c.self<KeyboardView>('IKeyboard');
    const m = lockedMachine(keyboard.console.session);
    running(m, 'put scancodes');
    const codes = c.list('scancodes').map(Number);
    if (codes.some((n) => !Number.isInteger(n) || n < 0 || n > 255))
      throw violation(ResultCode.E_INVALIDARG, 'Scancodes are bytes');
    m.scancodes.push(...codes);
    return codes.length;
  },
  IConsole_powerButton(c) {
    const m = lockedMachine(c.self<SimSession['console']>('IConsole').session);
    running(m, 'press the power button');
    c.world.acpiPowerButton(m);
  },
  IConsole_powerDown(c) {
    const m = lockedMachine(c.self<SimSession['console']>('IConsole').session);
    // A stuck VM (guest panic) can only be powered down.
    if (m.state !== 'Stuck') running(m, 'power down');
    m.setState('Stopping');
    return c.ref(c.world.task(`Powering off ${m.name}`, () => c.world.powerOff(m)));
  },
  IConsole_reset(c) {
    const m = lockedMachine(c.self<SimSession['console']>('IConsole').session);
    if (m.state !== 'Running') running(m, 'reset');
    if (m.state !== 'Running')
      throw runtime(ResultCode.VBOX_E_INVALID_VM_STATE, 'Cannot reset a paused machine', true);
    c.world.reset(m);
  },
  IConsole_pause(c) {
    const m = lockedMachine(c.self<SimSession['console']>('IConsole').session);
    if (m.state !== 'Running')
      throw runtime(ResultCode.VBOX_E_INVALID_VM_STATE, `Cannot pause: machine is ${m.state}`, true);
    c.world.pause(m, true);
  },
  IConsole_resume(c) {
    const m = lockedMachine(c.self<SimSession['console']>('IConsole').session);
    if (m.state !== 'Paused')
      throw runtime(ResultCode.VBOX_E_INVALID_VM_STATE, `Cannot resume: machine is ${m.state}`, true);
    c.world.pause(m, false);
  },
  ...snapshotHandlers,
};
