import { VmkitError } from '@vmkit/core/spi';
import * as vbox from 'virtualbox-soap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VboxTestEnv, vboxTestEnv } from '../../test-support/vbox-env.js';
import { resolveVirtualBoxProviderOptions } from '../provider/virtualbox-provider-options.js';
import { VboxConnection } from './connection.js';
import { withMachineLock } from './machine-lock.js';

describe('withMachineLock', () => {
  let env: VboxTestEnv;
  let conn: VboxConnection;
  let other: { manager: vbox.IWebsessionManager; vbox: vbox.IVirtualBox };
  let name: string;

  beforeAll(async () => {
    env = await vboxTestEnv();
    conn = new VboxConnection(resolveVirtualBoxProviderOptions(env.options()));
    const manager = await vbox.connect(env.url);
    other = { manager, vbox: await manager.logon(env.username, env.password) };
    name = `${env.prefix}lock`;
    const m = await other.vbox.createMachine('', name, [], 'Linux_64', '', '', '', '');
    await m.saveSettings();
    await other.vbox.registerMachine(m);
  });
  afterAll(async () => {
    await conn.close();
    await other.manager.logoff(other.vbox);
    await env.close();
  });

  const machine = async () => (await conn.api()).vbox.findMachine(name);

  it('changes the session machine, saves, and unlocks', async () => {
    const api = await conn.api();
    await withMachineLock(conn, api, await machine(), (m) => m.setMemorySize(333), { retries: 0 });
    expect(Number(await (await machine()).getMemorySize())).toBe(333);
    expect(String(await (await machine()).getSessionState())).toBe('Unlocked');
  });

  it('unlocks and discards the change when the change fails', async () => {
    const api = await conn.api();
    const failing = withMachineLock(
      conn,
      api,
      await machine(),
      async (m) => {
        await m.setMemorySize(444);
        throw new Error('boom');
      },
      { retries: 0 },
    );
    await expect(failing).rejects.toThrow('boom');
    expect(Number(await (await machine()).getMemorySize())).toBe(333);
    expect(String(await (await machine()).getSessionState())).toBe('Unlocked');
  });

  it('retries a machine another session holds a bounded number of times, then fails as CONFLICT', async () => {
    const session = await other.manager.getSessionObject(other.vbox);
    const theirs = await other.vbox.findMachine(name);
    await theirs.lockMachine(session, 'Write' as vbox.LockType);
    const api = await conn.api();
    const started = Date.now();
    const error = await conn
      .run('test lock', async () =>
        withMachineLock(conn, api, await machine(), (m) => m.setMemorySize(555), { retries: 2 }),
      )
      .catch((e: unknown) => e);
    expect(VmkitError.is(error, 'CONFLICT')).toBe(true);
    expect((error as Error).message).toMatch(/already locked by a session/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25 + 50);
    // Released by its holder while we retry: the change goes through.
    setTimeout(() => void session.unlockMachine(), 100);
    await withMachineLock(conn, api, await machine(), (m) => m.setMemorySize(555), { retries: 10 });
    expect(Number(await (await machine()).getMemorySize())).toBe(555);
    expect(env.sim?.rejections ?? []).toEqual([]);
  });

  it('changing a machine outside a session lock is refused (and the simulator counts it as a rejected request)', async () => {
    const theirs = await other.vbox.findMachine(name);
    const error = await theirs.setMemorySize(1024).catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(/not mutable/);
    if (env.sim) {
      expect(env.sim.rejections.map((r) => r.operation)).toEqual(['IMachine_setMemorySize']);
      env.sim.resetCounters();
    }
  });
});
