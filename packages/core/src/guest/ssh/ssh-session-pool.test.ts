import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SshSession } from './ssh-session.js';
import { SshSessionPool } from './ssh-session-pool.js';
import { lentSession } from './ssh-transport-factory.js';

/** A connection that counts its closes and can be ended from outside (the node went away). */
function fakeSession() {
  let end: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    end = resolve;
  });
  const session = {
    closes: 0,
    exec: async () => {
      throw new Error('not used');
    },
    close() {
      session.closes++;
      end();
    },
    closed,
    drop: () => end(),
  };
  return session;
}

type Fake = ReturnType<typeof fakeSession>;

describe('SshSessionPool', () => {
  let made: Fake[];
  const open = async (): Promise<SshSession> => {
    const s = fakeSession();
    made.push(s);
    return s;
  };
  beforeEach(() => {
    made = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('lends one connection to calls one after another, and closes it once idle for idleMs', async () => {
    const pool = new SshSessionPool({ idleMs: 1000, maxUsers: 8 });
    const a = await pool.acquire('n1', open);
    expect(a.reused).toBe(false);
    a.release();
    a.release(); // idempotent: one release counted
    await vi.advanceTimersByTimeAsync(999);
    const b = await pool.acquire('n1', open);
    expect(b.reused).toBe(true);
    expect(b.session).toBe(a.session);
    b.release();
    expect(made).toHaveLength(1);
    expect(made[0]?.closes).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(made[0]?.closes).toBe(1);
    expect(pool.size).toBe(0);
    const c = await pool.acquire('n1', open);
    expect(c.reused).toBe(false);
    expect(made).toHaveLength(2);
  });

  it('keeps keys apart and opens another connection past maxUsers', async () => {
    const pool = new SshSessionPool({ idleMs: 1000, maxUsers: 2 });
    const lent = [
      await pool.acquire('n1', open),
      await pool.acquire('n1', open),
      await pool.acquire('n1', open),
      await pool.acquire('n2', open),
    ];
    expect(new Set(lent.map((l) => l.session)).size).toBe(3);
    expect(lent[1]?.session).toBe(lent[0]?.session);
    expect(pool.size).toBe(3);
    // A user that gave its loan back makes room on the first connection.
    lent[0]?.release();
    expect((await pool.acquire('n1', open)).session).toBe(lent[0]?.session);
  });

  it('never idles out a connection still lent, and forgets one that ended under it', async () => {
    const pool = new SshSessionPool({ idleMs: 100, maxUsers: 8 });
    const a = await pool.acquire('n1', open);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(made[0]?.closes).toBe(0);
    made[0]?.drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.size).toBe(0);
    const b = await pool.acquire('n1', open);
    expect(b.session).not.toBe(a.session);
    a.release(); // late release of the gone one changes nothing
    expect(pool.size).toBe(1);
  });

  it('discard closes a broken connection so no one gets it again', async () => {
    const pool = new SshSessionPool({ idleMs: 1000, maxUsers: 8 });
    const a = await pool.acquire('n1', open);
    const b = await pool.acquire('n1', open);
    pool.discard(b);
    expect(made[0]?.closes).toBe(1);
    a.release();
    expect((await pool.acquire('n1', open)).session).not.toBe(a.session);
  });

  it('close ends idle connections at once, lent ones when given back, and keeps none afterwards', async () => {
    const pool = new SshSessionPool({ idleMs: 60_000, maxUsers: 8 });
    const idle = await pool.acquire('n1', open);
    idle.release();
    const busy = await pool.acquire('n2', open);
    pool.close();
    expect(made[0]?.closes).toBe(1);
    expect(made[1]?.closes).toBe(0);
    busy.release();
    expect(made[1]?.closes).toBe(1);
    const later = await pool.acquire('n1', open);
    expect(later.reused).toBe(false);
    later.release();
    expect(made[2]?.closes).toBe(1);
    expect(pool.size).toBe(0);
  });
});

describe('lentSession (the session a transport gets from the pool)', () => {
  it('sends the first command of a kept connection found gone over a new one; later failures are the command own', async () => {
    const pool = new SshSessionPool({ idleMs: 60_000, maxUsers: 8 });
    const sessions: string[] = [];
    const make = (name: string, fail: boolean) => async (): Promise<SshSession> => {
      sessions.push(name);
      return {
        exec: async (command) => {
          if (fail) throw new Error(`${name} is gone`);
          return { name, command } as never;
        },
        close: () => {},
        closed: new Promise(() => {}),
      };
    };
    // A connection kept from an earlier call, that died unnoticed.
    (await pool.acquire('n1', make('stale', true))).release();
    const first = await pool.acquire('n1', make('unused', false));
    expect(first.reused).toBe(true);
    const session = lentSession(pool, first, () => pool.acquire('n1', make('fresh', false)));
    expect(await session.exec('true')).toEqual({ name: 'fresh', command: 'true' });
    expect(sessions).toEqual(['stale', 'fresh']);
    session.close();
    // A connection this loan opened itself is not retried: its failure is the command's.
    const own = await pool.acquire('n2', make('own', true));
    const plain = lentSession(pool, own, () => pool.acquire('n2', make('never', false)));
    await expect(plain.exec('true')).rejects.toThrow('own is gone');
    expect(sessions).not.toContain('never');
  });
});
