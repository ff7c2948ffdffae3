import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startVboxSimulator, type VboxSimulator } from './index.js';
import { rawClient } from './sim-soap.fixture.js';

let sim: VboxSimulator;
let dir: string;
let call: ReturnType<typeof rawClient>['call'];
let ok: ReturnType<typeof rawClient>['ok'];
let logon: ReturnType<typeof rawClient>['logon'];
let newMachine: ReturnType<typeof rawClient>['newMachine'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmkit-sim-test-'));
  sim = await startVboxSimulator({ machineFolder: dir, idleTimeoutMs: 60_000 });
  ({ call, ok, logon, newMachine } = rawClient(sim));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => sim.resetCounters());

describe('the vboxwebsrv simulator checks every request against the WSDL', () => {
  it('refuses an unknown operation, an unknown part, a missing part and a bad enum value, counting each', async () => {
    const vbox = await logon();
    const unknown = await call('IMachine_frobnicate', { _this: vbox });
    expect(unknown.status).toBe(500);
    expect(unknown.value('faultstring')).toBe(
      "Method 'IMachine_frobnicate' not implemented: method name or namespace not recognized",
    );
    expect(
      (await call('IVirtualBox_findMachine', { _this: vbox, nameOrId: 'x', extra: '1' })).value(
        'faultstring',
      ),
    ).toMatch(/tag name or namespace mismatch in element 'extra'/);
    expect((await call('IVirtualBox_findMachine', { _this: vbox })).value('faultstring')).toMatch(
      /occurrence constraint violation in element 'nameOrId'/,
    );
    const m = await newMachine(vbox, 'enum-check');
    const session = (await ok('IWebsessionManager_getSessionObject', { refIVirtualBox: vbox })).value() ?? '';
    expect(
      (await call('IMachine_lockMachine', { _this: m, session, lockType: 'Exclusive' })).value('faultstring'),
    ).toMatch(/data type mismatch in element 'lockType'/);
    expect((await call('IMachine_getNetworkAdapter', { _this: m, slot: '-1' })).value('faultstring')).toMatch(
      /data type mismatch/,
    );
    expect(sim.rejections).toHaveLength(5);
  });

  it('answers faults as vboxwebsrv does: RuntimeFault with a signed result code, InvalidObjectFault for bad references', async () => {
    const vbox = await logon();
    const missing = await call('IVirtualBox_findMachine', { _this: vbox, nameOrId: 'nope' });
    expect(missing.status).toBe(500);
    expect(missing.value('faultstring')).toBe(
      "VirtualBox error: apirc=0x80bb0001 Could not find a registered machine named 'nope' (0x80bb0001)",
    );
    expect(missing.value('resultCode')).toBe(String(0x80bb0001 | 0));
    expect(missing.value()).toMatch(/^[0-9a-f]{16}-[0-9a-f]{16}$/);
    expect(sim.rejections).toEqual([]);
    const stale = await call('IVirtualBox_getVersion', { _this: `${vbox.slice(0, 17)}00000000000000ff` });
    expect(stale.value('badObjectID')).toBe(`${vbox.slice(0, 17)}00000000000000ff`);
  });

  it('logs on only with the right password; logged-off, expired and foreign references are invalid', async () => {
    const bad = await call('IWebsessionManager_logon', { username: sim.username, password: 'wrong' });
    expect(bad.status).toBe(500);
    expect(bad.body).not.toContain('resultCode');
    const a = await logon();
    const b = await logon();
    const machine = await newMachine(a, 'foreign');
    // A reference from websession a used in websession b.
    expect((await call('IVirtualBox_registerMachine', { _this: b, machine })).value('badObjectID')).toBe(
      machine,
    );
    await ok('IWebsessionManager_logoff', { refIVirtualBox: a });
    expect((await call('IMachine_getName', { _this: machine })).value('badObjectID')).toBe(machine);
    const short = await startVboxSimulator({ machineFolder: dir, idleTimeoutMs: 30 });
    const ref = (
      await (
        await fetch(short.url, {
          method: 'POST',
          body: `<Envelope><Body><IWebsessionManager_logon><username>${short.username}</username><password>${short.password}</password></IWebsessionManager_logon></Body></Envelope>`,
        })
      ).text()
    ).match(/<returnval>([^<]*)</)?.[1];
    await new Promise((r) => setTimeout(r, 60));
    const expired = await (
      await fetch(short.url, {
        method: 'POST',
        body: `<Envelope><Body><IVirtualBox_getVersion><_this>${ref}</_this></IVirtualBox_getVersion></Body></Envelope>`,
      })
    ).text();
    expect(expired).toContain('InvalidObjectFault');
    await short.close();
  });
});
