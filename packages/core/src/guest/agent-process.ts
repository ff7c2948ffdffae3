import { VmkitError } from '../errors/vmkit-error.js';
import type { GuestAgent, GuestProcessStatus } from '../spi/guest-agent.js';
import { sleep, throwIfAborted } from '../util/abort.js';

/** The first real pause between two status checks of a guest process (the first check is at once). */
export const POLL_FIRST_MS = 2;
/** The longest pause while a guest process is young ({@link POLL_SHORT_FOR_MS}). */
export const POLL_SHORT_MAX_MS = 20;
/** How long a guest process counts as young: its end is noticed within {@link POLL_SHORT_MAX_MS}. */
export const POLL_SHORT_FOR_MS = 1000;
/** The longest pause between two status checks of a guest process. */
export const POLL_MAX_MS = 200;

/**
 * Pauses between status checks: none before the first, then from {@link POLL_FIRST_MS} doubling up
 * to {@link POLL_SHORT_MAX_MS} for the first second (a short command's end is seen soon after it
 * came), then doubling up to {@link POLL_MAX_MS}.
 */
export class PollPacer {
  readonly #started = Date.now();
  #next = 0;

  /** Waits the next pause; `ABORTED` when `signal` fires. */
  async pause(signal?: AbortSignal): Promise<void> {
    const ms = this.#next;
    const young = Date.now() - this.#started < POLL_SHORT_FOR_MS;
    this.#next = Math.min(Math.max(ms * 2, POLL_FIRST_MS), young ? POLL_SHORT_MAX_MS : POLL_MAX_MS);
    if (ms === 0) throwIfAborted(signal, 'sleep');
    else await sleep(ms, signal);
  }
}

/** The exit code of an ended guest process: its own, or 128 + the signal that ended it. */
export function exitCodeOf(status: GuestProcessStatus): number {
  if (status.exitCode !== undefined) return status.exitCode;
  if (status.signal !== undefined) return 128 + status.signal;
  return 255;
}

/** Starts `/bin/sh -c text` in the guest (its output kept by the agent when `captureOutput`); returns its pid. */
export function spawnShell(
  agent: GuestAgent,
  text: string,
  signal?: AbortSignal,
  captureOutput = false,
): Promise<number> {
  return agent.spawn(
    { path: '/bin/sh', args: ['-c', text], ...(captureOutput ? { captureOutput } : {}) },
    signal ? { signal } : {},
  );
}

/** How {@link waitForStatus} waits. */
export interface WaitForStatusOptions {
  readonly signal?: AbortSignal;
  /** `TIMEOUT` once the process has run this long (it is left running: the caller kills it). */
  readonly timeoutMs?: number;
  /**
   * A fixed pause between status checks (the first is at once), for a guest that a busier pace
   * would slow (each check is work for the guest's agent); by default {@link PollPacer}'s.
   */
  readonly pauseMs?: number;
  /** What the `TIMEOUT` error says, and its details (default: the pid and the limit). */
  readonly timeoutError?: { readonly message: string; readonly details?: Record<string, unknown> };
}

/**
 * Waits until the guest process `pid` ends and returns its final status (exit code or signal,
 * and the output the agent captured); `ABORTED` when `signal` fires, `TIMEOUT` after `timeoutMs`.
 */
export async function waitForStatus(
  agent: GuestAgent,
  pid: number,
  options: WaitForStatusOptions = {},
): Promise<GuestProcessStatus> {
  const pacer = new PollPacer();
  const fixed = options.pauseMs;
  let first = true;
  const deadline =
    options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  const call = options.signal ? { signal: options.signal } : {};
  for (;;) {
    if (fixed === undefined) await pacer.pause(options.signal);
    else if (first) throwIfAborted(options.signal, 'sleep');
    else await sleep(fixed, options.signal);
    first = false;
    const status = await agent.processStatus(pid, call);
    if (status.exited) return status;
    if (Date.now() >= deadline) {
      const named = options.timeoutError;
      throw new VmkitError(
        'TIMEOUT',
        named?.message ?? `guest process ${pid} still running after ${options.timeoutMs} ms`,
        named?.details ? { details: named.details } : {},
      );
    }
  }
}

/**
 * Waits until the guest process `pid` ends and returns its exit code; `ABORTED` when `signal`
 * fires, `TIMEOUT` after `timeoutMs` (the process is left running: the caller kills it).
 */
export async function waitForExit(
  agent: GuestAgent,
  pid: number,
  options: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {},
): Promise<number> {
  return exitCodeOf(await waitForStatus(agent, pid, options));
}

/** Runs `/bin/sh -c text` in the guest to its end; returns its exit code. */
export async function runShell(
  agent: GuestAgent,
  text: string,
  options: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {},
): Promise<number> {
  const pid = await spawnShell(agent, text, options.signal);
  return waitForExit(agent, pid, options);
}
