import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVboxSimulator, type VboxSimulator } from './index.js';
import { rawClient } from './sim-soap.fixture.js';

// The simulator's rules for live (boot ISO) machines: media only on registered machines, extra
// data without a session, something to boot, and a DVD-booted guest with no disk keeps running.

let sim: VboxSimulator;
let dir: string;
let raw: ReturnType<typeof rawClient>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmkit-sim-boot-'));
  sim = await startVboxSimulator({ machineFolder: dir });
  raw = rawClient(sim);
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the simulator boots live machines as VirtualBox would', () => {
  it('attaches media only to registered machines, sets extra data without a session, launches only with something to boot, and keeps a disk-less DVD guest running', async () => {
    const { call, ok, logon, newMachine, lock } = raw;
    const vbox = await logon();
    writeFileSync(join(dir, 'live.iso'), Buffer.alloc(4096));
    const iso = await raw.openDvd(vbox, join(dir, 'live.iso'));
    const m = await newMachine(vbox, 'live');
    const attach = { name: 'IDE', controllerPort: '0', device: '0', type: 'DVD', medium: iso };
    const early = await call('IMachine_attachDevice', { _this: m, ...attach });
    expect(early.value('resultCode')).toBe(String(0x80bb0007 | 0));
    expect(early.value('faultstring')).toMatch(/unregistered machine/);
    await ok('IMachine_setBootOrder', { _this: m, position: '1', device: 'DVD' });
    await ok('IVirtualBox_registerMachine', { _this: vbox, machine: m });
    // Extra data: no session needed on a registered machine; other settings still need one.
    await ok('IMachine_setExtraData', { _this: m, key: 'vmkit/test', value: 'x' });
    expect((await ok('IMachine_getExtraData', { _this: m, key: 'vmkit/test' })).value()).toBe('x');
    expect((await call('IMachine_setCPUCount', { _this: m, CPUCount: '2' })).value('faultstring')).toMatch(
      /not mutable/,
    );
    const session = (await ok('IWebsessionManager_getSessionObject', { refIVirtualBox: vbox })).value() ?? '';
    const nothing = await call('IMachine_launchVMProcess', { _this: m, session, name: 'headless' });
    expect(nothing.value('faultstring')).toMatch(/no hard disk or DVD to boot/);
    const l = await lock(vbox, m);
    await ok('IMachine_attachDevice', { _this: l.mutable, ...attach });
    await ok('IMachine_saveSettings', { _this: l.mutable });
    await ok('ISession_unlockMachine', { _this: l.session });
    expect(sim.machines().find((x) => x.name === 'live')?.bootMedium).toBe(join(dir, 'live.iso'));
    const progress =
      (await ok('IMachine_launchVMProcess', { _this: m, session, name: 'headless' })).value() ?? '';
    await ok('IProgress_waitForCompletion', { _this: progress, timeout: '-1' });
    // Longer than an installer runs (150 ms): a live system keeps running.
    await new Promise((r) => setTimeout(r, 400));
    expect((await ok('IMachine_getState', { _this: m })).value()).toBe('Running');
    // The ISO is in use: it cannot be closed.
    expect((await call('IMedium_close', { _this: iso })).value('resultCode')).toBe(String(0x80bb000c | 0));
    await ok('ISession_unlockMachine', { _this: session });
    expect(sim.rejections.map((r) => r.operation)).toEqual([
      'IMachine_attachDevice',
      'IMachine_setCPUCount',
      'IMachine_launchVMProcess',
      'IMedium_close',
    ]);
  });
});
