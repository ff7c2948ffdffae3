import { randomBytes } from 'node:crypto';
import type { GuestAgent } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simOf, testProvider } from '../../../test-support/vbox-env.js';
import { natNic, nodeSpec, type RunningNode, runningNode } from '../../../test-support/vbox-running-node.js';
import { rawClient } from '../../testing/sim-soap.fixture.js';

// Guest Control through the provider against the simulator, whose guests really run what they
// are given (the host's /bin/sh and busybox in a root of their own) and keep real files.

const LOGIN = { user: 'vmkit', password: 'guest-secret' };

const NAT = natNic('52:54:00:00:10:01');

/** Polls the process until it ended (each poll is a real status query of the guest). */
async function waitExit(agent: GuestAgent, pid: number) {
  for (;;) {
    const status = await agent.processStatus(pid);
    if (status.exited) return status;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads a whole guest file through the agent. */
async function readAll(agent: GuestAgent, path: string): Promise<Buffer> {
  const handle = await agent.openFile(path, 'r');
  const parts: Uint8Array[] = [];
  for (;;) {
    const chunk = await agent.readFile(handle, agent.maxChunkBytes);
    parts.push(chunk.data);
    if (chunk.eof) break;
  }
  await agent.closeFile(handle);
  return Buffer.concat(parts);
}

describe('VirtualBox Guest Control (the guest agent)', () => {
  let running: RunningNode;
  let provider: RunningNode['provider'];
  let node: string;

  beforeAll(async () => {
    running = await runningNode(
      'gc',
      [
        NAT,
        {
          slot: 1,
          attachment: 'hostOnly',
          hostInterface: 'vboxnet0',
          mac: '52:54:00:00:10:02',
          portForwards: [],
        },
      ],
      { behaviour: { guestLogins: { [LOGIN.user]: LOGIN.password } } },
    );
    ({ provider, node } = running);
  });
  afterAll(async () => {
    await running?.close();
  });

  it('says it has a guest agent', async () => {
    expect((await provider.capabilities()).guestAgent).toBe(true);
  });

  it('pings, runs programs with their exit codes and signals, and refuses a missing program', async () => {
    const agent = await provider.guestAgent(node, { credentials: LOGIN });
    try {
      await agent.ping();
      const ok = await agent.spawn({ path: '/bin/sh', args: ['-c', 'exit 0'] });
      expect(await waitExit(agent, ok)).toEqual({ exited: true, exitCode: 0 });
      const three = await agent.spawn({ path: '/bin/sh', args: ['-c', 'exit 3'] });
      expect(await waitExit(agent, three)).toEqual({ exited: true, exitCode: 3 });
      const killed = await agent.spawn({ path: '/bin/sh', args: ['-c', 'kill -9 $$'] });
      expect(await waitExit(agent, killed)).toEqual({ exited: true, signal: 9 });
      // Once reported ended, the process is forgotten by the agent.
      await expect(agent.processStatus(three)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // Arguments and environment reach the program; stdin is closed (cat ends at once).
      const withEnv = await agent.spawn({
        path: '/bin/sh',
        args: ['-c', 'cat; printf "%s|%s" "$1" "$GREETING" > /tmp/out', 'sh', 'a b'],
        env: ['GREETING=hello there'],
      });
      expect(await waitExit(agent, withEnv)).toEqual({ exited: true, exitCode: 0 });
      expect((await readAll(agent, '/tmp/out')).toString()).toBe('a b|hello there');
      await expect(agent.spawn({ path: '/no/such/program', args: [] })).rejects.toMatchObject({
        code: 'PROVIDER',
        message: expect.stringMatching(/not found on guest/),
      });
      expect(simOf(running.env).rejections).toEqual([]);
    } finally {
      await agent.close?.();
    }
  });

  it('copies bytes in and out of the guest unchanged, and appends', async () => {
    const agent = await provider.guestAgent(node, { credentials: LOGIN });
    try {
      const bytes = randomBytes(3 * agent.maxChunkBytes + 1234);
      const w = await agent.openFile('/root/blob.bin', 'w');
      for (let at = 0; at < bytes.length; at += agent.maxChunkBytes)
        await agent.writeFile(w, bytes.subarray(at, at + agent.maxChunkBytes));
      await agent.closeFile(w);
      expect((await readAll(agent, '/root/blob.bin')).equals(bytes)).toBe(true);
      const a = await agent.openFile('/root/blob.bin', 'a');
      await agent.writeFile(a, Buffer.from('tail'));
      await agent.closeFile(a);
      const sum = await agent.spawn({
        path: '/bin/sh',
        args: ['-c', 'test "$(wc -c < /root/blob.bin)" -eq 197846'],
      });
      expect(await waitExit(agent, sum)).toEqual({ exited: true, exitCode: 0 });
      await expect(agent.openFile('/root/absent', 'r')).rejects.toMatchObject({
        code: 'PROVIDER',
        message: expect.stringMatching(/not found on guest/),
      });
      await expect(agent.readFile(999, 10)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await agent.close?.();
    }
  });

  it('reports the addresses the guest properties carry, per NIC by MAC, and the same interfaces through the agent', async () => {
    const sim = simOf(running.env);
    const seen = await provider.getNode(node);
    const props = sim.machines().find((m) => m.name === node);
    expect(props?.adapters.map((a) => a.mac)).toEqual(['525400001001', '525400001002']);
    const hostOnly = seen?.nicAddresses?.[1]?.addresses?.[0];
    expect(hostOnly).toMatch(/^192\.168\.56\.\d+$/);
    expect(seen?.nicAddresses).toEqual([
      { slot: 0, mac: '52:54:00:00:10:01', addresses: ['10.0.2.15'], source: 'guest-properties' },
      { slot: 1, mac: '52:54:00:00:10:02', addresses: [hostOnly], source: 'guest-properties' },
    ]);
    expect(seen?.privateAddresses).toEqual(['10.0.2.15', hostOnly]);
    const agent = await provider.guestAgent(node, {});
    expect(await agent.networkInterfaces()).toEqual([
      {
        name: 'net0',
        mac: '52:54:00:00:10:01',
        addresses: [{ family: 'ipv4', address: '10.0.2.15', prefix: 24 }],
      },
      {
        name: 'net1',
        mac: '52:54:00:00:10:02',
        addresses: [{ family: 'ipv4', address: hostOnly, prefix: 24 }],
      },
    ]);
    await agent.close?.();
  });

  it('refuses a wrong password with the guest’s answer, and a login without password before asking', async () => {
    const wrong = await provider.guestAgent(node, {
      credentials: { user: LOGIN.user, password: 'nope-secret' },
    });
    const error = await wrong.ping().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'PROVIDER',
      message: expect.stringMatching(/could not log in as user 'vmkit'.*not able to logon on guest/),
    });
    // The password never shows in what the error says.
    const said = error as { message: string; details: unknown };
    expect(JSON.stringify([said.message, said.details])).not.toContain('nope-secret');
    await wrong.close?.();
    const keyOnly = await provider.guestAgent(node, { credentials: { user: 'vmkit', privateKey: 'PEM' } });
    await expect(keyOnly.spawn({ path: '/bin/true', args: [] })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      retryable: false,
      details: expect.objectContaining({ field: 'credentials.password' }),
    });
  });

  it('logs in with the provider’s guestLogin when the stored login has no password', async () => {
    const other = testProvider(running.env, { guestLogin: LOGIN });
    try {
      const agent = await other.guestAgent(node, { credentials: { user: 'vmkit', privateKey: 'PEM' } });
      await agent.ping();
      await agent.close?.();
    } finally {
      await other.close();
    }
  });

  it('closes its guest session: the session is gone in the guest and the agent refuses further calls', async () => {
    const sim = simOf(running.env);
    const agent = await provider.guestAgent(node, { credentials: LOGIN });
    await agent.ping();
    sim.resetCounters();
    await agent.close?.();
    expect(sim.calls.get('IGuestSession_close')).toBe(1);
    expect(sim.calls.get('ISession_unlockMachine')).toBe(1);
    await expect(agent.ping()).rejects.toMatchObject({ code: 'CONFLICT' });
    await agent.close?.();
  });

  it('refuses a node that is not running (CONFLICT) or unknown (NOT_FOUND)', async () => {
    const stopped = await provider.cloneNode(
      nodeSpec(running.master, 'stopped', [natNic('52:54:00:00:10:09')]),
    );
    await expect(provider.guestAgent(stopped.id, { credentials: LOGIN })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await provider.destroyNode(stopped.id);
    await expect(
      provider.guestAgent(`${running.env.prefix}nobody`, { credentials: LOGIN }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('VirtualBox Guest Control without Guest Additions', () => {
  it('fails UNSUPPORTED (retryable) while no Guest Additions run, and no address is assumed', async () => {
    const running = await runningNode('bare', [NAT], {
      behaviour: { guestAdditions: false, guestLogins: { root: 'pw' } },
    });
    const { provider, node } = running;
    try {
      const agent = await provider.guestAgent(node, { credentials: { user: 'root', password: 'pw' } });
      await expect(agent.ping()).rejects.toMatchObject({
        code: 'UNSUPPORTED',
        retryable: true,
        message: expect.stringMatching(/Guest Additions are not running/),
      });
      await expect(agent.networkInterfaces()).rejects.toMatchObject({ code: 'UNSUPPORTED', retryable: true });
      await agent.close?.();
      const seen = await provider.getNode(node);
      expect(seen?.privateAddresses).toEqual([]);
      expect(seen?.nicAddresses).toEqual([{ slot: 0, mac: NAT.mac }]);
      // The failed opening let go of the machine: it can be destroyed at once.
      await provider.destroyNode(node);
    } finally {
      await running.close();
    }
  });
});

describe('the simulator models Guest Control as VirtualBox has it', () => {
  let running: RunningNode;
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const text = (b64text: string | undefined) => Buffer.from(b64text ?? '', 'base64').toString();

  beforeAll(async () => {
    running = await runningNode('raw', [NAT], { behaviour: { guestLogins: { root: 'root-pw' } } });
  });
  afterAll(async () => {
    await running?.close();
  });

  /** A guest of the running node reached as a client of vboxwebsrv would: shared lock, console, guest. */
  async function rawGuest() {
    const sim = simOf(running.env);
    const raw = rawClient(sim);
    const vbox = await raw.logon();
    const machine =
      (await raw.ok('IVirtualBox_findMachine', { _this: vbox, nameOrId: running.node })).value() ?? '';
    const { session } = await raw.lock(vbox, machine, 'Shared');
    const console = (await raw.ok('ISession_getConsole', { _this: session })).value() ?? '';
    const guest = (await raw.ok('IConsole_getGuest', { _this: console })).value() ?? '';
    return { sim, raw, guest, session };
  }

  it('keeps output for IProcess.read when asked, takes stdin, and reports states and exit codes', async () => {
    const { sim, raw, guest, session } = await rawGuest();
    const login = { _this: guest, user: 'root', password: 'root-pw', domain: '', sessionName: 'raw' };
    const gs = (await raw.ok('IGuest_createSession', login)).value() ?? '';
    expect(
      (
        await raw.ok('IGuestSession_waitForArray', { _this: gs, waitFor: 'Start', timeoutMS: '5000' })
      ).value(),
    ).toBe('Start');
    const request = (args: string[], flags: string[], timeoutMS = '0') => ({
      _this: gs,
      executable: '/bin/sh',
      arguments: ['sh', '-c', ...args],
      environmentChanges: [],
      flags,
      timeoutMS,
    });
    const create = (args: string[], flags: string[], timeoutMS = '0') =>
      raw.ok('IGuestSession_processCreate', request(args, flags, timeoutMS));
    const p =
      (
        await create(['read x; echo "out:$x"; echo err >&2; exit 5'], ['WaitForStdOut', 'WaitForStdErr'])
      ).value() ?? '';
    expect(
      (await raw.ok('IProcess_waitForArray', { _this: p, waitFor: 'Start', timeoutMS: '5000' })).value(),
    ).toBe('Start');
    expect(
      (
        await raw.ok('IProcess_write', {
          _this: p,
          handle: '0',
          flags: '1',
          data: b64('hi\n'),
          timeoutMS: '1000',
        })
      ).value(),
    ).toBe('3');
    expect(
      text(
        (await raw.ok('IProcess_read', { _this: p, handle: '1', toRead: '100', timeoutMS: '5000' })).value(),
      ),
    ).toBe('out:hi\n');
    // Not all its output read yet: the process is still reported started.
    expect(
      (await raw.ok('IProcess_waitForArray', { _this: p, waitFor: 'StdErr', timeoutMS: '5000' })).value(),
    ).toBe('StdErr');
    expect((await raw.ok('IProcess_getStatus', { _this: p })).value()).toBe('Started');
    expect(
      text(
        (await raw.ok('IProcess_read', { _this: p, handle: '2', toRead: '100', timeoutMS: '5000' })).value(),
      ),
    ).toBe('err\n');
    await raw.ok('IProcess_read', { _this: p, handle: '1', toRead: '100', timeoutMS: '5000' });
    expect(
      (await raw.ok('IProcess_waitForArray', { _this: p, waitFor: 'Terminate', timeoutMS: '5000' })).value(),
    ).toBe('Terminate');
    expect((await raw.ok('IProcess_getStatus', { _this: p })).value()).toBe('TerminatedNormally');
    expect((await raw.ok('IProcess_getExitCode', { _this: p })).value()).toBe('5');
    // A guest-side timeout kills it (TimedOutKilled); terminate kills it (TerminatedSignal).
    const slow = (await create(['sleep 30'], [], '200')).value() ?? '';
    expect(
      (
        await raw.ok('IProcess_waitForArray', { _this: slow, waitFor: 'Terminate', timeoutMS: '10000' })
      ).value(),
    ).toBe('Terminate');
    expect((await raw.ok('IProcess_getStatus', { _this: slow })).value()).toBe('TimedOutKilled');
    const killed = (await create(['sleep 30'], [])).value() ?? '';
    await raw.ok('IProcess_waitForArray', { _this: killed, waitFor: 'Start', timeoutMS: '5000' });
    await raw.ok('IProcess_terminate', { _this: killed });
    expect(
      (
        await raw.ok('IProcess_waitForArray', { _this: killed, waitFor: 'Terminate', timeoutMS: '10000' })
      ).value(),
    ).toBe('Terminate');
    expect((await raw.ok('IProcess_getStatus', { _this: killed })).value()).toBe('TerminatedSignal');
    // Rules: output not asked for cannot be read; append modes are not implemented; enums are checked.
    sim.resetCounters();
    expect(
      (await raw.call('IProcess_read', { _this: killed, handle: '1', toRead: '10', timeoutMS: '0' })).status,
    ).toBe(500);
    const append = await raw.call('IGuestSession_fileOpen', {
      _this: gs,
      path: '/tmp/a',
      accessMode: 'AppendOnly',
      openAction: 'OpenOrCreate',
      creationMode: '420',
    });
    expect(append.value('faultstring')).toMatch(/not yet implemented/);
    expect((await raw.call('IGuestSession_processCreate', request(['true'], ['Bogus']))).status).toBe(500);
    // (A request the WSDL refuses is rejected before its operation is known.)
    expect(sim.rejections.map((r) => r.operation)).toEqual(['IProcess_read', 'IGuestSession_fileOpen', '?']);
    await raw.ok('IGuestSession_close', { _this: gs });
    await raw.ok('ISession_unlockMachine', { _this: session });
  });

  it('answers a wrong password as VirtualBox does: the session starts in error and waitFor faults', async () => {
    const { raw, guest, session } = await rawGuest();
    const gs =
      (
        await raw.ok('IGuest_createSession', {
          _this: guest,
          user: 'root',
          password: 'wrong',
          domain: '',
          sessionName: 'bad',
        })
      ).value() ?? '';
    const answer = await raw.call('IGuestSession_waitForArray', {
      _this: gs,
      waitFor: 'Start',
      timeoutMS: '5000',
    });
    expect(answer.status).toBe(500);
    expect(answer.value('resultCode')).toBe(String(0x80bb0005 | 0));
    expect(answer.value('faultstring')).toMatch(/not able to logon on guest/);
    expect((await raw.ok('IGuestSession_getStatus', { _this: gs })).value()).toBe('Error');
    await raw.ok('ISession_unlockMachine', { _this: session });
  });
});
