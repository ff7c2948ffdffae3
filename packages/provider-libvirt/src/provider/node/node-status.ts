import type { NodeStatus } from '@vmkit/core/spi';
import { DomainState } from '../../client/domain-procedures.js';

/** Maps libvirt's domain state to vmkit's node status. */
export function nodeStatus(state: number): NodeStatus {
  switch (state) {
    case DomainState.RUNNING:
    case DomainState.BLOCKED:
      return 'running';
    case DomainState.PAUSED:
    case DomainState.PMSUSPENDED:
      return 'suspended';
    case DomainState.SHUTOFF:
    case DomainState.SHUTDOWN:
      return 'stopped';
    case DomainState.CRASHED:
      return 'error';
    default:
      return 'unknown';
  }
}
