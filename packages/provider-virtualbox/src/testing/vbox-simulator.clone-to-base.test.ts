import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startVboxSimulator, type VboxSimulator } from './index.js';
import { rawClient } from './sim-soap.fixture.js';

// IMedium.cloneToBase as VirtualBox.xidl has it, checked with raw SOAP requests: the target must
// be NotCreated, a running machine's disk is locked for writing, and the result is one base image
// holding the whole differencing chain.

let sim: VboxSimulator;
let dir: string;
let client: ReturnType<typeof rawClient>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmkit-sim-ctb-'));
  sim = await startVboxSimulator({ machineFolder: dir, idleTimeoutMs: 60_000 });
  client = rawClient(sim);
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const INVALID_OBJECT_STATE = String(0x80bb0007 | 0);

describe('IMedium.cloneToBase in the simulator', () => {
  it('flattens a differencing chain into a new base image; refuses a created target and a running machine', async () => {
    const { call, ok, logon, newMachine, lock } = client;
    const vbox = await logon();
    const wait = async (progress: string | undefined) => {
      await ok('IProgress_waitForCompletion', { _this: progress ?? '', timeout: '-1' });
      return (await ok('IProgress_getResultCode', { _this: progress ?? '' })).value();
    };
    const create = async (location: string) =>
      (
        await ok('IVirtualBox_createMedium', {
          _this: vbox,
          format: 'VDI',
          location,
          accessMode: 'ReadWrite',
          aDeviceTypeType: 'HardDisk',
        })
      ).value() ?? '';
    const base = join(dir, 'base.vdi');
    const disk = await create(base);
    await wait(
      (
        await ok('IMedium_createBaseStorage', { _this: disk, logicalSize: '1048576', variant: 'Standard' })
      ).value(),
    );
    const m = await newMachine(vbox, 'ctb');
    await ok('IMachine_saveSettings', { _this: m });
    await ok('IVirtualBox_registerMachine', { _this: vbox, machine: m });
    const setup = await lock(vbox, m);
    await ok('IMachine_attachDevice', {
      _this: setup.mutable,
      name: 'IDE',
      controllerPort: '0',
      device: '0',
      type: 'HardDisk',
      medium: disk,
    });
    await ok('IMachine_saveSettings', { _this: setup.mutable });
    await ok('ISession_unlockMachine', { _this: setup.session });
    // An offline snapshot puts a differencing disk on top: the machine's current disk.
    const l = await lock(vbox, m);
    const taken = await ok('IMachine_takeSnapshot', {
      _this: l.mutable,
      name: 's',
      description: '',
      pause: 'true',
    });
    expect(await wait(taken.value())).toBe('0');
    await ok('ISession_unlockMachine', { _this: l.session });
    const diff = sim.media().find((x) => x.parent === base);
    expect(diff).toBeDefined();
    const current = (
      await ok('IVirtualBox_openMedium', {
        _this: vbox,
        location: diff?.location ?? '',
        deviceType: 'HardDisk',
        accessMode: 'ReadWrite',
        forceNewUuid: 'false',
      })
    ).value();

    // A running machine holds its current disk locked for writing.
    const s = (await ok('IWebsessionManager_getSessionObject', { refIVirtualBox: vbox })).value() ?? '';
    await wait((await ok('IMachine_launchVMProcess', { _this: m, session: s, name: 'headless' })).value());
    const flat = join(dir, 'flat.vdi');
    const target = await create(flat);
    const locked = await call('IMedium_cloneToBase', { _this: current ?? '', target, variant: 'Standard' });
    expect(locked.value('resultCode')).toBe(INVALID_OBJECT_STATE);
    expect(locked.value('faultstring')).toMatch(/locked for writing by the running machine/);
    await ok('IConsole_powerDown', {
      _this: (await ok('ISession_getConsole', { _this: s })).value() ?? '',
    });
    await vi.waitFor(
      async () => expect((await ok('IMachine_getState', { _this: m })).value()).toBe('PoweredOff'),
      {
        timeout: 5_000,
        interval: 10,
      },
    );
    await ok('ISession_unlockMachine', { _this: s }).catch(() => undefined);

    const done = await ok('IMedium_cloneToBase', { _this: current ?? '', target, variant: 'Standard' });
    expect(await wait(done.value())).toBe('0');
    const made = sim.media().find((x) => x.location === flat);
    expect(made).toMatchObject({ format: 'VDI' });
    expect(made).not.toHaveProperty('parent');
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', flat], { encoding: 'utf8' }));
    expect(info).toMatchObject({ format: 'vdi', 'virtual-size': 1048576 });
    // A target that exists already is refused.
    const again = await call('IMedium_cloneToBase', { _this: current ?? '', target, variant: 'Standard' });
    expect(again.value('resultCode')).toBe(INVALID_OBJECT_STATE);
    expect(again.value('faultstring')).toMatch(/not in NotCreated state/);
    // That misuse is the only rule broken (the simulator lists what breaks the API's rules).
    expect(sim.rejections.map((r) => r.operation)).toEqual(['IMedium_cloneToBase']);
  });
});
