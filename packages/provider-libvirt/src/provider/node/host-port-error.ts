import { hostPortUnbindable } from '@vmkit/core/spi';

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
