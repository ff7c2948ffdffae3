import { describe, expect, it } from 'vitest';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { relativeDateArgument, setGuestClock } from './guest-clock.js';

/** The host's wall clock in nanoseconds. */
const hostNowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

const dom = { name: 'n1', uuid: new Uint8Array(16), id: 1 } as unknown as DomainHandle;

/**
 * A guest behind the host by `lagNs`, whose agent answers as qemu-ga does: `guest-get-time`,
 * `guest-exec` of `/bin/date -s <relative>` (applied the way GNU date does, or refused as busybox's
 * date refuses a relative time), `guest-exec-status`, and libvirt's `setTime` (`guest-set-time`).
 */
function fakeGuest(options: {
  lagNs: bigint;
  date: 'gnu' | 'busybox' | 'ignores';
  unresponsiveFor?: number;
  statusFails?: boolean;
}) {
  let offsetNs = -options.lagNs;
  let calls = 0;
  const log: string[] = [];
  const exited = new Map<number, number>();
  const ctx = {
    client: {
      qemu: {
        async agentCommand(_d: DomainHandle, json: string): Promise<string> {
          const { execute, arguments: args } = JSON.parse(json) as {
            execute: string;
            arguments?: { path: string; arg: string[]; pid: number };
          };
          log.push(execute);
          if (calls++ < (options.unresponsiveFor ?? 0)) throw new Error('Guest agent is not responding');
          if (execute === 'guest-ping') return '{"return":{}}';
          if (execute === 'guest-get-time') return `{"return":${hostNowNs() + offsetNs}}`;
          if (execute === 'guest-exec') {
            const pid = 100 + exited.size;
            const m = /^([+-])(\d+)\.(\d{9}) seconds$/.exec(args?.arg[1] ?? '');
            if (args?.path !== '/bin/date' || args.arg[0] !== '-s') exited.set(pid, 127);
            else if (options.date === 'busybox' || !m) exited.set(pid, 1);
            else {
              const shift = BigInt(m[2]!) * 1_000_000_000n + BigInt(m[3]!);
              if (options.date === 'gnu') offsetNs += m[1] === '-' ? -shift : shift;
              exited.set(pid, 0);
            }
            return `{"return":{"pid":${pid}}}`;
          }
          if (execute === 'guest-exec-status' && options.statusFails) throw new Error('agent channel reset');
          if (execute === 'guest-exec-status')
            return `{"return":{"exited":true,"exitcode":${exited.get(args?.pid ?? 0)}}}`;
          throw new Error(`unexpected ${execute}`);
        },
      },
      domains: {
        async setTime(_d: DomainHandle, seconds: number, nanoseconds: number): Promise<void> {
          log.push('set-time');
          offsetNs = BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds) - hostNowNs();
        },
      },
    },
  } as unknown as LibvirtContext;
  return { ctx, log, offsetMs: () => Number(offsetNs) / 1e6 };
}

describe('setGuestClock', () => {
  it("moves a guest's clock a day behind to the host's with GNU date, not guest-set-time (hwclock)", async () => {
    const guest = fakeGuest({ lagNs: 86_400_123_456_789n, date: 'gnu', unresponsiveFor: 2 });
    await setGuestClock(guest.ctx, dom);
    expect(Math.abs(guest.offsetMs())).toBeLessThan(20);
    expect(guest.log).not.toContain('set-time');
    // Waited for the agent, read, shifted, checked.
    expect(guest.log.filter((c) => c === 'guest-get-time')).toHaveLength(2);
    expect(guest.log).toContain('guest-exec');
  });

  it('falls back to guest-set-time where date takes no relative time (busybox)', async () => {
    const guest = fakeGuest({ lagNs: 3_600_000_000_000n, date: 'busybox' });
    await setGuestClock(guest.ctx, dom);
    expect(guest.log.at(-1)).toBe('set-time');
    expect(Math.abs(guest.offsetMs())).toBeLessThan(20);
  });

  it('falls back to guest-set-time when the check finds the clock still off', async () => {
    const guest = fakeGuest({ lagNs: 5_000_000_000n, date: 'ignores' });
    await setGuestClock(guest.ctx, dom);
    expect(guest.log.at(-1)).toBe('set-time');
    expect(Math.abs(guest.offsetMs())).toBeLessThan(20);
  });

  it('falls back to guest-set-time when an agent call of the date path fails', async () => {
    const guest = fakeGuest({ lagNs: 7_000_000_000n, date: 'gnu', statusFails: true });
    await setGuestClock(guest.ctx, dom);
    expect(guest.log.at(-1)).toBe('set-time');
    expect(Math.abs(guest.offsetMs())).toBeLessThan(20);
  });

  it('ends with ABORTED while it waits for the agent', async () => {
    const guest = fakeGuest({ lagNs: 0n, date: 'gnu', unresponsiveFor: 1_000_000 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    await expect(setGuestClock(guest.ctx, dom, abort.signal)).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('relativeDateArgument', () => {
  it('writes seconds with nine decimals, either sign', () => {
    expect(relativeDateArgument(93_000_120_000n)).toBe('+93.000120000 seconds');
    expect(relativeDateArgument(-250_000_000n)).toBe('-0.250000000 seconds');
    expect(relativeDateArgument(0n)).toBe('+0.000000000 seconds');
  });
});
