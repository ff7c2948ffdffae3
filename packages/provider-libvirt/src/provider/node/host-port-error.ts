import { hostPortUnbindable, retryRetryable } from '@vmkit/core/spi';

/** QEMU's message when user networking cannot bind a `hostfwd` port: `... rule 'tcp:127.0.0.1:20001-:80'`. */
const HOSTFWD = /Could not set up host forwarding rule '(tcp|udp):[^:']*:(\d+)-/;

/**
 * A domain start that failed because QEMU could not bind a forwarded host port (something on the
 * domain's host holds it) becomes core's `hostPortUnbindable` error, so the node is retried on
 * another port; any other error is returned as it is.
 */
export function classifyStartError(error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  const m = HOSTFWD.exec(message);
  if (!m) return error;
  return hostPortUnbindable({ protocol: m[1] as 'tcp' | 'udp', port: Number(m[2]) }, message, error);
}

/**
 * libvirt's report when QEMU exited before libvirt reached its monitor, without QEMU's own words
 * (a race: usually libvirt quotes QEMU's log, e.g. the hostfwd error above, but not always).
 */
const EXITED_UNSAID = /failed to connect to monitor socket/;

/**
 * Starts a domain through `create`, classifying the failure with {@link classifyStartError}. When
 * QEMU exited before libvirt could say why, the start is tried again (at most twice more), so a
 * hostfwd bind failure is reported as such rather than as a bare monitor error.
 */
export async function startClassified(create: () => Promise<unknown>): Promise<void> {
  try {
    await retryRetryable(create, {
      attempts: 3,
      baseDelayMs: 0,
      retryIf: (error) =>
        classifyStartError(error) === error &&
        EXITED_UNSAID.test(error instanceof Error ? error.message : String(error)),
    });
  } catch (error) {
    throw classifyStartError(error);
  }
}
