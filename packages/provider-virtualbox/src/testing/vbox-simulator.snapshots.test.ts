import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startVboxSimulator, type VboxSimulator } from './index.js';
import { rawClient } from './sim-soap.fixture.js';

// The snapshot rules of VirtualBox.xidl (IMachine.takeSnapshot, restoreSnapshot, deleteSnapshot,
// findSnapshot, ISnapshot), checked with raw SOAP requests.

let sim: VboxSimulator;
let dir: string;
let client: ReturnType<typeof rawClient>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmkit-sim-snap-'));
  sim = await startVboxSimulator({ machineFolder: dir, idleTimeoutMs: 60_000 });
  client = rawClient(sim);
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const INVALID_VM_STATE = String(0x80bb0002 | 0);
const INVALID_OBJECT_STATE = String(0x80bb0007 | 0);

describe('snapshots in the simulator', () => {
  it('takes offline and online snapshots, restores only a stopped machine, refuses deleting at a branch', async () => {
    const { call, ok, logon, newMachine, lock } = client;
    const vbox = await logon();
    const m = await newMachine(vbox, 'snap');
    await ok('IMachine_saveSettings', { _this: m });
    await ok('IVirtualBox_registerMachine', { _this: vbox, machine: m });
    const base = join(dir, 'base.vdi');
    const disk =
      (
        await ok('IVirtualBox_createMedium', {
          _this: vbox,
          format: 'VDI',
          location: base,
          accessMode: 'ReadWrite',
          aDeviceTypeType: 'HardDisk',
        })
      ).value() ?? '';
    const wait = async (progress: string | undefined) => {
      await ok('IProgress_waitForCompletion', { _this: progress ?? '', timeout: '-1' });
      return (await ok('IProgress_getResultCode', { _this: progress ?? '' })).value();
    };
    await wait(
      (
        await ok('IMedium_createBaseStorage', { _this: disk, logicalSize: '1048576', variant: 'Standard' })
      ).value(),
    );
    const setup = await lock(vbox, m);
    for (const [op, args] of [
      [
        'IMachine_attachDevice',
        { name: 'IDE', controllerPort: '0', device: '0', type: 'HardDisk', medium: disk },
      ],
      ['IMachine_setBootOrder', { position: '1', device: 'HardDisk' }],
      ['IMachine_saveSettings', {}],
    ] as const)
      await ok(op, { _this: setup.mutable, ...args });
    await ok('ISession_unlockMachine', { _this: setup.session });
    const state = async () => (await ok('IMachine_getState', { _this: m })).value();
    const snapshot = async (name: string, lockType = 'Write') => {
      const l = await lock(vbox, m, lockType);
      const taken = await ok('IMachine_takeSnapshot', {
        _this: l.mutable,
        name,
        description: `${name} description`,
        pause: 'true',
      });
      expect(await wait(taken.value())).toBe('0');
      await ok('ISession_unlockMachine', { _this: l.session });
      return taken.value('id') ?? '';
    };
    const find = async (key: string) =>
      (await ok('IMachine_findSnapshot', { _this: m, nameOrId: key })).value() ?? '';
    const nameOf = async (snap: string) => (await ok('ISnapshot_getName', { _this: snap })).value();

    // Offline: the machine's disk becomes the snapshot's, the machine writes to a new diff over it.
    const cold = await snapshot('cold');
    expect((await ok('ISnapshot_getOnline', { _this: await find('cold') })).value()).toBe('false');
    const diffs = () => sim.media().filter((x) => x.parent === base);
    expect(diffs()).toHaveLength(1);
    expect(diffs()[0]?.location).toMatch(/\/Snapshots\/\{[0-9a-f-]{36}\}\.vdi$/);

    // Online: a running machine, through a shared lock; it runs on.
    const s = (await ok('IWebsessionManager_getSessionObject', { refIVirtualBox: vbox })).value() ?? '';
    await wait((await ok('IMachine_launchVMProcess', { _this: m, session: s, name: 'headless' })).value());
    await ok('ISession_unlockMachine', { _this: s });
    expect(await state()).toBe('Running');
    await snapshot('warm', 'Shared');
    expect(await state()).toBe('Running');
    const warm = await find('warm');
    expect((await ok('ISnapshot_getOnline', { _this: warm })).value()).toBe('true');
    expect(await nameOf((await ok('ISnapshot_getParent', { _this: warm })).value() ?? '')).toBe('cold');
    expect(await nameOf((await ok('IMachine_getCurrentSnapshot', { _this: m })).value() ?? '')).toBe('warm');
    expect(await nameOf(await find(''))).toBe('cold'); // the root

    // Restoring needs a machine that is not running.
    const running = await lock(vbox, m, 'Shared');
    const refused = await call('IMachine_restoreSnapshot', {
      _this: running.mutable,
      snapshot: await find('cold'),
    });
    expect(refused.value('resultCode')).toBe(INVALID_VM_STATE);
    expect(refused.value('faultstring')).toMatch(/must not be running/);
    await ok('IConsole_powerDown', {
      _this: (await ok('ISession_getConsole', { _this: running.session })).value() ?? '',
    });
    await vi.waitFor(async () => expect(await state()).toBe('PoweredOff'), { timeout: 5_000, interval: 10 });

    // Restoring the online snapshot leaves the machine Saved; the offline one PoweredOff.
    const restore = async (snap: string) => {
      const l = await lock(vbox, m);
      expect(
        await wait((await ok('IMachine_restoreSnapshot', { _this: l.mutable, snapshot: snap })).value()),
      ).toBe('0');
      await ok('ISession_unlockMachine', { _this: l.session });
    };
    await restore(warm);
    expect(await state()).toBe('Saved');
    await restore(await find('cold'));
    expect(await state()).toBe('PoweredOff');
    // Now the base disk has two children (warm's frozen diff and the new current one): cold cannot go.
    expect(diffs()).toHaveLength(2);
    const del = async (id: string) => {
      const l = await lock(vbox, m);
      const r = await call('IMachine_deleteSnapshot', { _this: l.mutable, id });
      await ok('ISession_unlockMachine', { _this: l.session });
      return r;
    };
    const branch = await del(cold);
    expect(branch.value('resultCode')).toBe(INVALID_OBJECT_STATE);
    expect(branch.value('faultstring')).toMatch(/more than one child hard disk/);
    // Deleting the leaf merges its diff away; cold then has one child medium and can go too.
    const warmId = (await ok('ISnapshot_getId', { _this: warm })).value() ?? '';
    expect(await wait((await del(warmId)).value())).toBe('0');
    expect(await wait((await del(cold)).value())).toBe('0');
    expect((await ok('IMachine_getSnapshotCount', { _this: m })).value()).toBe('0');
    const missing = await call('IMachine_findSnapshot', { _this: m, nameOrId: 'cold' });
    expect(missing.value('resultCode')).toBe(String(0x80bb0001 | 0));
  });
});
