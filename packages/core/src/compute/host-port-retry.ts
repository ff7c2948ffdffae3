import type { UnbindableHostPort } from '../errors/host-port-error.js';
import type { NetworkSpec } from '../model/network-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';

/** Attempts at creating one node when its host cannot bind the ports it was given. */
export const MAX_PORT_ATTEMPTS = 3;

/** The host a provider's port leases are scoped to: its host's identity when remote, else this machine (`undefined`). */
export function leaseHostOf(provider: HypervisorProvider): string | undefined {
  const host = provider.host;
  return host && !host.local ? host.id : undefined;
}

/** Whether the caller asked for exactly this host port (then another port would not do). */
export function isFixedHostPort(network: NetworkSpec, bad: UnbindableHostPort): boolean {
  return network.nics.some((nic) =>
    (nic.portForwards ?? []).some((pf) => pf.protocol === bad.protocol && pf.hostPort === bad.port),
  );
}
