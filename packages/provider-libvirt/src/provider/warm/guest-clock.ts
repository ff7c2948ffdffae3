import { retryRetryable, VmkitError, waitForExit } from '@vmkit/core/spi';
import type { DomainHandle } from '../../client/handles.js';
import { LibvirtGuestAgent } from '../guest/libvirt-guest-agent.js';
import type { LibvirtContext } from '../libvirt-context.js';

/** How long the agent may take to answer after the resume (libvirt reconnects it once the restore ends; seconds on a loaded host). */
const AGENT_WAKE_BUDGET_MS = 30_000;
/**
 * How long the guest's `date` may take before the clock is set the agent's way instead: long, as a
 * `date` that ran after that would move the set clock again by the whole offset.
 */
const DATE_BUDGET_MS = 30_000;
/** An offset the guest's clock keeps after the shift above this (plus the reading's own uncertainty) means the shift did not take. */
const SHIFT_TOLERANCE_NS = 50_000_000n;

/**
 * `guest-get-time` (the guest's `CLOCK_REALTIME`, nanoseconds since the epoch) with the host's
 * clock at the middle of the round trip: the guest's offset from the host is `guestNs - hostNs`,
 * known to within half of `roundTripNs`.
 */
interface ClockReading {
  readonly guestNs: bigint;
  readonly hostNs: bigint;
  readonly roundTripNs: bigint;
}

/**
 * The argument of GNU `date -s` that moves the clock by `shiftNs` from the moment `date` reads it:
 * a relative item in seconds with nine decimals (`+93.000120000 seconds`, `-0.250000000 seconds`),
 * so the delay before `date` runs does not enter the result.
 */
export function relativeDateArgument(shiftNs: bigint): string {
  const sign = shiftNs < 0n ? '-' : '+';
  const abs = shiftNs < 0n ? -shiftNs : shiftNs;
  return `${sign}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')} seconds`;
}

/**
 * Sets a resumed clone's clock to the host's. A restored guest's clock runs on from where the
 * template was saved, so it is behind by however long the state was kept. The agent's own
 * `guest-set-time` also runs `hwclock -w`, which waits for the next whole second and costs
 * 1-2 s in a freshly restored guest under TCG (measured: one call took 0.9-2.3 s, a `guest-ping`
 * 3-84 ms). So the offset is read first (`guest-get-time`, timed on the host) and the guest's
 * GNU `date` moves the clock by it, relative to its own reading, then a second reading checks
 * the result. A guest without GNU `date` (busybox's takes no relative time), a `date` that fails
 * or runs past 30 s, a check that finds the clock still off, or any failed agent call on the way
 * falls back to `guest-set-time` (tried again for up to 30 s while the agent answers). A `date`
 * still running after 30 s, or started by a `guest-exec` whose answer was lost, would move the
 * clock once more when it ends; that is not guarded against. The agent is waited
 * for first (`guest-ping`, 20-100 ms pauses, 30 s in all). The hardware clock is left alone: QEMU's
 * RTC follows the host's clock.
 */
export async function setGuestClock(
  ctx: LibvirtContext,
  dom: DomainHandle,
  signal?: AbortSignal,
): Promise<void> {
  const agent = new LibvirtGuestAgent(ctx.client.qemu, dom);
  const options = signal ? { signal } : {};
  // Every failure is tried again (20-100 ms pauses, 30 s in all) while the agent wakes.
  const whileWaking = {
    retryIf: () => true,
    attempts: Number.MAX_SAFE_INTEGER,
    baseDelayMs: 20,
    maxDelayMs: 100,
    budgetMs: AGENT_WAKE_BUDGET_MS,
    ...options,
  };
  await retryRetryable(() => agent.ping(options), whileWaking);
  try {
    if (await shiftWithDate(ctx, agent, dom, signal)) return;
  } catch (error) {
    // Any failure of the date path (an agent call that failed, an answer not understood) leaves
    // the clock to guest-set-time.
    if (signal?.aborted) throw error;
  }
  await retryRetryable(() => {
    const now = Date.now();
    return ctx.client.domains.setTime(dom, Math.floor(now / 1000), (now % 1000) * 1_000_000, signal);
  }, whileWaking);
}

/** Moves the clock by the offset with the guest's `date`; whether the check found it set. */
async function shiftWithDate(
  ctx: LibvirtContext,
  agent: LibvirtGuestAgent,
  dom: DomainHandle,
  signal?: AbortSignal,
): Promise<boolean> {
  const options = signal ? { signal } : {};
  const before = await readClock(ctx, dom, signal);
  const pid = await agent.spawn(
    { path: '/bin/date', args: ['-s', relativeDateArgument(before.hostNs - before.guestNs)] },
    options,
  );
  // A date past its budget fails the wait (TIMEOUT), which the caller turns into guest-set-time.
  if ((await waitForExit(agent, pid, { ...options, timeoutMs: DATE_BUDGET_MS })) !== 0) return false;
  const after = await readClock(ctx, dom, signal);
  const off = after.guestNs - after.hostNs;
  return (off < 0n ? -off : off) <= SHIFT_TOLERANCE_NS + after.roundTripNs;
}

/** One {@link ClockReading} through `guest-get-time`. */
async function readClock(
  ctx: LibvirtContext,
  dom: DomainHandle,
  signal?: AbortSignal,
): Promise<ClockReading> {
  const sent = performance.now();
  const answer = await ctx.client.qemu.agentCommand(dom, '{"execute":"guest-get-time"}', 10, 0, signal);
  const roundTripMs = performance.now() - sent;
  // The host's wall clock (not the monotonic one, which drifts from it) at the round trip's middle.
  const hostNs = BigInt(Math.round((Date.now() - roundTripMs / 2) * 1_000_000));
  // Nanoseconds since the epoch are past 2^53: read as digits, not as a JSON number.
  const digits =
    answer === undefined ? undefined : /^\s*\{\s*"return"\s*:\s*(\d{1,20})\s*\}\s*$/.exec(answer)?.[1];
  if (digits === undefined)
    throw new VmkitError('PROVIDER', `guest-get-time answered ${answer ?? 'nothing'}`, {
      details: { node: dom.name },
    });
  return { guestNs: BigInt(digits), hostNs, roundTripNs: BigInt(Math.round(roundTripMs * 1_000_000)) };
}
