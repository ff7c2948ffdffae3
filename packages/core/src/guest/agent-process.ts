import { VmkitError } from '../errors/vmkit-error.js';
import type { GuestAgent, GuestProcessStatus } from '../spi/guest-agent.js';
import { sleep } from '../util/abort.js';

/** The first pause between two status checks of a guest process; pauses double up to {@link POLL_MAX_MS}. */
export const POLL_FIRST_MS = 1;
/** The longest pause between two status checks of a guest process. */
export const POLL_MAX_MS = 200;

/** Pauses that start short and double up to {@link POLL_MAX_MS}: short commands end after few checks. */
export class PollPacer {
  #next = POLL_FIRST_MS;

  /** Waits the next pause; `ABORTED` when `signal` fires. */
  async pause(signal?: AbortSignal): Promise<void> {
    const ms = this.#next;
    this.#next = Math.min(this.#next * 2, POLL_MAX_MS);
    await sleep(ms, signal);
  }
}

/** The exit code of an ended guest process: its own, or 128 + the signal that ended it. */
export function exitCodeOf(status: GuestProcessStatus): number {
  if (status.exitCode !== undefined) return status.exitCode;
  if (status.signal !== undefined) return 128 + status.signal;
  return 255;
}

/** Starts `/bin/sh -c text` in the guest; returns its pid. */
export function spawnShell(agent: GuestAgent, text: string, signal?: AbortSignal): Promise<number> {
  return agent.spawn({ path: '/bin/sh', args: ['-c', text] }, signal ? { signal } : {});
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
  const pacer = new PollPacer();
  const deadline =
    options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  const call = options.signal ? { signal: options.signal } : {};
  for (;;) {
    await pacer.pause(options.signal);
    const status = await agent.processStatus(pid, call);
    if (status.exited) return exitCodeOf(status);
    if (Date.now() >= deadline)
      throw new VmkitError('TIMEOUT', `guest process ${pid} still running after ${options.timeoutMs} ms`);
  }
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
