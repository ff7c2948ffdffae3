import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startVboxSimulator, type VboxSimulator } from './index.js';
import { rawClient } from './sim-soap.fixture.js';

let sim: VboxSimulator;
let dir: string;
let call: ReturnType<typeof rawClient>['call'];
let ok: ReturnType<typeof rawClient>['ok'];
let logon: ReturnType<typeof rawClient>['logon'];
let newMachine: ReturnType<typeof rawClient>['newMachine'];
let lock: ReturnType<typeof rawClient>['lock'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmkit-sim-test-'));
  // The installer runs long enough to be seen Running after its launch on a loaded machine.
  sim = await startVboxSimulator({
    machineFolder: dir,
    idleTimeoutMs: 60_000,
    behaviour: { installerRunMs: 1_000 },
  });
  ({ call, ok, logon, newMachine, lock } = rawClient(sim));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => sim.resetCounters());

describe('the simulator enforces VirtualBox rules', () => {
  it('changes settings only on a session machine under a write lock, and only saveSettings commits them', async () => {
    const vbox = await logon();
    const m = await newMachine(vbox, 'settings');
    await ok('IMachine_setMemorySize', { _this: m, memorySize: '300' }); // not registered yet: mutable
    await ok('IMachine_saveSettings', { _this: m });
    await ok('IVirtualBox_registerMachine', { _this: vbox, machine: m });
    expect(
      (await call('IMachine_setMemorySize', { _this: m, memorySize: '400' })).value('faultstring'),
    ).toMatch(/not mutable/);
    const { session, mutable } = await lock(vbox, m);
    await ok('IMachine_setMemorySize', { _this: mutable, memorySize: '500' });
    await ok('ISession_unlockMachine', { _this: session });
    expect((await ok('IMachine_getMemorySize', { _this: m })).value()).toBe('300');
    const again = await lock(vbox, m);
    await ok('IMachine_setMemorySize', { _this: again.mutable, memorySize: '600' });
    await ok('IMachine_saveSettings', { _this: again.mutable });
    await ok('ISession_unlockMachine', { _this: again.session });
    expect((await ok('IMachine_getMemorySize', { _this: m })).value()).toBe('600');
    // A machine locked by one session cannot be locked by another.
    const first = await lock(vbox, m);
    const other = (await ok('IWebsessionManager_getSessionObject', { refIVirtualBox: vbox })).value() ?? '';
    const busy = await call('IMachine_lockMachine', { _this: m, session: other, lockType: 'Write' });
    expect(busy.value('resultCode')).toBe(String(0x80bb0007 | 0));
    await ok('ISession_unlockMachine', { _this: first.session });
  });

  it('keeps firmwareType (BIOS by default) and refuses a value the WSDL enum has not got', async () => {
    const vbox = await logon();
    const m = await newMachine(vbox, 'firmware');
    expect((await ok('IMachine_getFirmwareType', { _this: m })).value()).toBe('BIOS');
    expect(
      (await call('IMachine_setFirmwareType', { _this: m, firmwareType: 'UEFI' })).value('faultstring'),
    ).toMatch(/data type mismatch in element 'firmwareType'/);
    await ok('IMachine_setFirmwareType', { _this: m, firmwareType: 'EFI' });
    await ok('IMachine_saveSettings', { _this: m });
    await ok('IVirtualBox_registerMachine', { _this: vbox, machine: m });
    expect((await ok('IMachine_getFirmwareType', { _this: m })).value()).toBe('EFI');
    // Registered: changed only through a session's machine, as other settings.
    expect(
      (await call('IMachine_setFirmwareType', { _this: m, firmwareType: 'BIOS' })).value('faultstring'),
    ).toMatch(/not mutable/);
  });

  it('runs guests: a running machine memory cannot change; an installer powers itself off; ACPI powers off; guest properties report addresses', async () => {
    const vbox = await logon();
    const m = await newMachine(vbox, 'guest');
    writeFileSync(
      join(dir, 'disk.vdi'),
      Buffer.concat([Buffer.alloc(64), Buffer.from([0x7f, 0x10, 0xda, 0xbe]), Buffer.alloc(448)]),
    );
    writeFileSync(join(dir, 'inst.iso'), Buffer.alloc(2048));
    await ok('IMachine_saveSettings', { _this: m });
    await ok('IVirtualBox_registerMachine', { _this: vbox, machine: m });
    const disk =
      (
        await ok('IVirtualBox_openMedium', {
          _this: vbox,
          location: join(dir, 'disk.vdi'),
          deviceType: 'HardDisk',
          accessMode: 'ReadWrite',
          forceNewUuid: 'false',
        })
      ).value() ?? '';
    const iso =
      (
        await ok('IVirtualBox_openMedium', {
          _this: vbox,
          location: join(dir, 'inst.iso'),
          deviceType: 'DVD',
          accessMode: 'ReadOnly',
          forceNewUuid: 'false',
        })
      ).value() ?? '';
    const l = await lock(vbox, m);
    await ok('IMachine_attachDevice', {
      _this: l.mutable,
      name: 'IDE',
      controllerPort: '0',
      device: '0',
      type: 'HardDisk',
      medium: disk,
    });
    await ok('IMachine_attachDevice', {
      _this: l.mutable,
      name: 'IDE',
      controllerPort: '1',
      device: '0',
      type: 'DVD',
      medium: iso,
    });
    await ok('IMachine_setBootOrder', { _this: l.mutable, position: '1', device: 'DVD' });
    await ok('IMachine_saveSettings', { _this: l.mutable });
    await ok('ISession_unlockMachine', { _this: l.session });
    const s = (await ok('IWebsessionManager_getSessionObject', { refIVirtualBox: vbox })).value() ?? '';
    const progress =
      (await ok('IMachine_launchVMProcess', { _this: m, session: s, name: 'headless' })).value() ?? '';
    await ok('IProgress_waitForCompletion', { _this: progress, timeout: '-1' });
    expect((await ok('IProgress_getResultCode', { _this: progress })).value()).toBe('0');
    expect((await ok('IMachine_getState', { _this: m })).value()).toBe('Running');
    expect(
      (
        await ok('IMachine_getGuestPropertyValue', {
          _this: m,
          property: '/VirtualBox/GuestInfo/Net/0/V4/IP',
        })
      ).value(),
    ).toBe('10.0.2.15');
    const shared = await lock(vbox, m, 'Shared');
    const refused = await call('IMachine_setMemorySize', { _this: shared.mutable, memorySize: '1024' });
    expect(refused.value('resultCode')).toBe(String(0x80bb0002 | 0));
    await ok('ISession_unlockMachine', { _this: shared.session });
    const state = async () => (await ok('IMachine_getState', { _this: m })).value();
    const reaches = (wanted: string) =>
      vi.waitFor(async () => expect(await state()).toBe(wanted), { timeout: 10_000, interval: 10 });
    // The installer powers itself off (without cloud-init: no pass of it).
    await reaches('PoweredOff');
    const info = () => sim.machines().find((x) => x.name === 'guest');
    expect(info()?.cloudInitPasses).toBe(0);
    expect(sim.media().find((x) => x.location === join(dir, 'disk.vdi'))?.writes).toBe(2);
    // Booting the disk first: the guest runs until the ACPI power button.
    const l2 = await lock(vbox, m);
    await ok('IMachine_setBootOrder', { _this: l2.mutable, position: '1', device: 'HardDisk' });
    await ok('IMachine_saveSettings', { _this: l2.mutable });
    await ok('ISession_unlockMachine', { _this: l2.session });
    const start =
      (await ok('IMachine_launchVMProcess', { _this: m, session: s, name: 'headless' })).value() ?? '';
    await ok('IProgress_waitForCompletion', { _this: start, timeout: '-1' });
    await ok('ISession_unlockMachine', { _this: s });
    // Booted as a system: its cloud-init pass is over, and it runs on.
    await vi.waitFor(() => expect(info()?.cloudInitPasses).toBe(1), { timeout: 10_000, interval: 5 });
    expect(await state()).toBe('Running');
    const control = await lock(vbox, m, 'Shared');
    await ok('IConsole_powerButton', {
      _this: (await ok('ISession_getConsole', { _this: control.session })).value() ?? '',
    });
    await reaches('PoweredOff');
    expect((await ok('ISession_getState', { _this: control.session })).value()).toBe('Unlocked');
    expect(sim.rejections).toEqual([
      {
        operation: 'IMachine_setMemorySize',
        message: expect.stringMatching(/Invalid machine state: Running/),
      },
    ]);
  });

  it('keeps the media tree: linked clones need a snapshot, a medium with children cannot go, deleting a clone never touches the master disk', async () => {
    const vbox = await logon();
    const m = await newMachine(vbox, 'master');
    await ok('IMachine_saveSettings', { _this: m });
    await ok('IVirtualBox_registerMachine', { _this: vbox, machine: m });
    const disk =
      (
        await ok('IVirtualBox_createMedium', {
          _this: vbox,
          format: 'VDI',
          location: join(dir, 'm.vdi'),
          accessMode: 'ReadWrite',
          aDeviceTypeType: 'HardDisk',
        })
      ).value() ?? '';
    await ok('IProgress_waitForCompletion', {
      _this:
        (
          await ok('IMedium_createBaseStorage', { _this: disk, logicalSize: '1048576', variant: 'Standard' })
        ).value() ?? '',
      timeout: '-1',
    });
    const l = await lock(vbox, m);
    await ok('IMachine_attachDevice', {
      _this: l.mutable,
      name: 'IDE',
      controllerPort: '0',
      device: '0',
      type: 'HardDisk',
      medium: disk,
    });
    await ok('IMachine_saveSettings', { _this: l.mutable });
    const target = await newMachine(vbox, 'clone');
    const noSnap = await call('IMachine_cloneTo', {
      _this: m,
      target,
      mode: 'MachineState',
      options: 'Link',
    });
    expect(noSnap.value('faultstring')).toMatch(/Linked clone can only be created from a snapshot/);
    const snap = await ok('IMachine_takeSnapshot', {
      _this: l.mutable,
      name: 'base',
      description: '',
      pause: 'false',
    });
    await ok('IProgress_waitForCompletion', { _this: snap.value() ?? '', timeout: '-1' });
    await ok('ISession_unlockMachine', { _this: l.session });
    const snapMachine =
      (
        await ok('ISnapshot_getMachine', {
          _this: (await ok('IMachine_findSnapshot', { _this: m, nameOrId: 'base' })).value() ?? '',
        })
      ).value() ?? '';
    const cloning =
      (
        await ok('IMachine_cloneTo', { _this: snapMachine, target, mode: 'MachineState', options: 'Link' })
      ).value() ?? '';
    await ok('IProgress_waitForCompletion', { _this: cloning, timeout: '-1' });
    await ok('IVirtualBox_registerMachine', { _this: vbox, machine: target });
    const busy = await call('IMedium_close', { _this: disk });
    expect(busy.value('faultstring')).toMatch(/has 2 child media/);
    const media = (
      await ok('IMachine_unregister', { _this: target, cleanupMode: 'DetachAllReturnHardDisksOnly' })
    ).values();
    expect(media).toHaveLength(1);
    const deleting = (await ok('IMachine_deleteConfig', { _this: target, media })).value() ?? '';
    await ok('IProgress_waitForCompletion', { _this: deleting, timeout: '-1' });
    expect(sim.deletedMedia()).toEqual([join(dir, 'clone', 'clone-00-diff.vdi')]);
    expect(sim.media().find((x) => x.location === join(dir, 'm.vdi'))?.children).toBe(1);
    expect(sim.rejections.map((r) => r.operation)).toEqual(['IMachine_cloneTo', 'IMedium_close']);
  });

  it('refuses a NAT rule whose name or host port is taken on the adapter', async () => {
    const vbox = await logon();
    const m = await newMachine(vbox, 'nat');
    await ok('IMachine_saveSettings', { _this: m });
    await ok('IVirtualBox_registerMachine', { _this: vbox, machine: m });
    const l = await lock(vbox, m);
    const adapter = (await ok('IMachine_getNetworkAdapter', { _this: l.mutable, slot: '0' })).value() ?? '';
    const nat = (await ok('INetworkAdapter_getNATEngine', { _this: adapter })).value() ?? '';
    const rule = {
      _this: nat,
      name: 'ssh',
      proto: 'TCP',
      hostIP: '127.0.0.1',
      hostPort: '2222',
      guestIP: '',
      guestPort: '22',
    };
    await ok('INATEngine_addRedirect', rule);
    expect(
      (await call('INATEngine_addRedirect', { ...rule, hostPort: '2223' })).value('faultstring'),
    ).toMatch(/name already exists/);
    expect((await call('INATEngine_addRedirect', { ...rule, name: 'ssh2' })).value('faultstring')).toMatch(
      /host port already exists/,
    );
    await ok('ISession_unlockMachine', { _this: l.session });
    expect(sim.rejections).toHaveLength(2);
  });
});
