import { VmkitError } from '@vmkit/core/spi';
import { LibvirtError, LibvirtErrorCode } from '../../errors/libvirt-error.js';

/** `VIR_ERR_AGENT_UNSYNCED`: the agent answered a sync with another id (it restarted meanwhile). */
const AGENT_UNSYNCED = 97;

/**
 * A libvirt failure of a guest agent command as the `GuestAgent` contract words it: no agent
 * connected or answering (`AGENT_UNRESPONSIVE`, `AGENT_UNSYNCED`, an agent timeout) is
 * `UNSUPPORTED` and retryable; a domain without the agent channel is `UNSUPPORTED` and final; a
 * domain not running is `CONFLICT`; an unknown process or file handle is `NOT_FOUND`; the agent's
 * own refusal is `PROVIDER` with its reason. Other errors pass through.
 */
export function agentCallError(error: unknown, command: string, node: string): unknown {
  if (!(error instanceof LibvirtError)) return error;
  const reason = error.libvirtMessage;
  const opts = { cause: error, details: { node, command, libvirtCode: error.libvirtCode } };
  switch (error.libvirtCode) {
    case LibvirtErrorCode.AGENT_UNRESPONSIVE:
    case AGENT_UNSYNCED:
    case LibvirtErrorCode.OPERATION_TIMEOUT:
      return new VmkitError('UNSUPPORTED', `no guest agent answers in node ${node} yet: ${reason}`, {
        ...opts,
        retryable: true,
        fault: 'environment',
      });
    case LibvirtErrorCode.ARGUMENT_UNSUPPORTED:
      return new VmkitError('UNSUPPORTED', `node ${node} has no guest agent channel: ${reason}`, opts);
    case LibvirtErrorCode.OPERATION_INVALID:
      return new VmkitError('CONFLICT', `node ${node} is not running: ${reason}`, opts);
  }
  // qemu-ga: "Invalid parameter 'pid'" for a process it does not know (or forgot once reported),
  // "handle '7' has not been found" for a file handle.
  if (/Invalid parameter 'pid'|handle '?-?\d+'? has not been found/i.test(reason))
    return new VmkitError('NOT_FOUND', `guest agent of node ${node}, ${command}: ${reason}`, opts);
  return new VmkitError('PROVIDER', `guest agent of node ${node} refused ${command}: ${reason}`, opts);
}
