import { VmkitError } from './vmkit-error.js';

/** A host port the hypervisor could not bind when it started a node. */
export interface UnbindableHostPort {
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
}

const REASON = 'host-port-unbindable';

/**
 * The error a provider throws when the hypervisor could not bind a leased host port (something on
 * its host holds it, e.g. QEMU's `Could not set up host forwarding rule`): `CONFLICT`, retryable,
 * with `details.reason` `'host-port-unbindable'`. Core then retries the node on another port.
 */
export function hostPortUnbindable(port: UnbindableHostPort, message: string, cause?: unknown): VmkitError {
  return new VmkitError(
    'CONFLICT',
    `host port ${port.protocol}/${port.port} could not be bound: ${message}`,
    {
      retryable: true,
      details: { reason: REASON, protocol: port.protocol, hostPort: port.port },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** The port of a {@link hostPortUnbindable} error; `undefined` for any other error. */
export function unbindableHostPort(error: unknown): UnbindableHostPort | undefined {
  if (!VmkitError.is(error, 'CONFLICT') || error.details.reason !== REASON) return undefined;
  const { protocol, hostPort } = error.details;
  if ((protocol !== 'tcp' && protocol !== 'udp') || typeof hostPort !== 'number') return undefined;
  return { protocol, port: hostPort };
}
