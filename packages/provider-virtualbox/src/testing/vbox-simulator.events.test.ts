import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVboxSimulator, type VboxSimulator } from './index.js';
import { rawClient } from './sim-soap.fixture.js';

// The simulator's console event source: passive listeners only, events after registration,
// runtime errors that pause the VM first, and a source that ends with the VM process.

let sim: VboxSimulator;
let dir: string;
let raw: ReturnType<typeof rawClient>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmkit-sim-events-'));
  sim = await startVboxSimulator({ machineFolder: dir });
  raw = rawClient(sim);
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const signed = (code: number) => String(code | 0);

describe('the simulator reports runtime errors as VirtualBox does', () => {
  it('pauses the VM on a fatal runtime error and delivers it to the passive listeners registered before; the source ends with the VM process', async () => {
    const { call, ok, logon, newMachine, lock } = raw;
    const vbox = await logon();
    writeFileSync(join(dir, 'live.iso'), Buffer.alloc(4096));
    const iso = await raw.openDvd(vbox, join(dir, 'live.iso'));
    const m = await newMachine(vbox, 'ev');
    await ok('IMachine_setBootOrder', { _this: m, position: '1', device: 'DVD' });
    await ok('IVirtualBox_registerMachine', { _this: vbox, machine: m });
    const w = await lock(vbox, m);
    await ok('IMachine_attachDevice', {
      _this: w.mutable,
      name: 'IDE',
      controllerPort: '0',
      device: '0',
      type: 'DVD',
      medium: iso,
    });
    await ok('IMachine_saveSettings', { _this: w.mutable });
    await ok('ISession_unlockMachine', { _this: w.session });
    const launcher =
      (await ok('IWebsessionManager_getSessionObject', { refIVirtualBox: vbox })).value() ?? '';
    const progress =
      (await ok('IMachine_launchVMProcess', { _this: m, session: launcher, name: 'headless' })).value() ?? '';
    await ok('IProgress_waitForCompletion', { _this: progress, timeout: '-1' });

    const shared = await lock(vbox, m, 'Shared');
    const console = (await ok('ISession_getConsole', { _this: shared.session })).value() ?? '';
    const source = (await ok('IConsole_getEventSource', { _this: console })).value() ?? '';
    const listener = (await ok('IEventSource_createListener', { _this: source })).value() ?? '';
    const register = { _this: source, listener, interesting: ['OnRuntimeError'] };
    // The web service has passive listeners only; an unregistered listener gets nothing.
    const active = await call('IEventSource_registerListener', { ...register, active: 'true' });
    expect(active.value('resultCode')).toBe(signed(0x80070057));
    const unknown = await call('IEventSource_getEvent', { _this: source, listener, timeout: '0' });
    expect(unknown.value('resultCode')).toBe(signed(0x80bb0001));
    await ok('IEventSource_registerListener', { ...register, active: 'false' });
    expect((await ok('IEventSource_getEvent', { _this: source, listener, timeout: '0' })).value()).toBe('');
    expect(sim.machines().find((x) => x.name === 'ev')?.consoleListeners).toBe(1);

    sim.injectRuntimeError('ev');
    expect((await ok('IMachine_getState', { _this: m })).value()).toBe('Paused');
    const event =
      (await ok('IEventSource_getEvent', { _this: source, listener, timeout: '0' })).value() ?? '';
    expect((await ok('IEvent_getType', { _this: event })).value()).toBe('OnRuntimeError');
    expect((await ok('IRuntimeErrorEvent_getId', { _this: event })).value()).toBe('DrvVD_DISKFULL');
    expect((await ok('IRuntimeErrorEvent_getFatal', { _this: event })).value()).toBe('true');
    await ok('IEventSource_eventProcessed', { _this: source, listener, event });
    // A listener registered after the event never hears it.
    const late = (await ok('IEventSource_createListener', { _this: source })).value() ?? '';
    await ok('IEventSource_registerListener', { ...register, listener: late, active: 'false' });
    expect((await ok('IEventSource_getEvent', { _this: source, listener: late, timeout: '0' })).value()).toBe(
      '',
    );

    // A paused VM resumes; a stuck one can only be powered down.
    await ok('IConsole_resume', { _this: console });
    sim.guestPanic('ev');
    expect((await ok('IMachine_getState', { _this: m })).value()).toBe('Stuck');
    expect((await call('IConsole_resume', { _this: console })).value('resultCode')).toBe(signed(0x80bb0002));
    sim.killVmProcess('ev');
    expect((await ok('IMachine_getState', { _this: m })).value()).toBe('Aborted');
    const gone = await call('IEventSource_getEvent', { _this: source, listener, timeout: '0' });
    expect(gone.value('resultCode')).toBe(signed(0x80070005));
    expect(sim.machines().find((x) => x.name === 'ev')).toMatchObject({
      consoleListeners: 0,
      locked: false,
      runtimeErrors: [{ id: 'DrvVD_DISKFULL', fatal: true }],
    });
    expect(sim.rejections.map((r) => r.operation)).toEqual([
      'IEventSource_registerListener',
      'IConsole_resume',
    ]);
  });
});
